/*
 * dockyard-monitor: the small program that stays with a container.
 *
 * It holds the container's stdio (pipes) or terminal (a pty master), writes
 * its output to a log in Docker's json-file format, serves attach clients on
 * a unix socket, takes commands from a FIFO, records the exit status of the
 * container's init in an exit file and runs an exit command at the end.
 * docs/monitor.md is the contract with the engine; read it first.
 *
 * One process, one thread, one poll loop. Memory is what an idle container
 * costs, so buffers are static (untouched pages cost nothing) and the only
 * heap use is per attach client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384       /* Docker's copier splits lines longer than this */
#define READ_CHUNK 32768           /* one read from the container, one stdcopy frame */
#define MAX_CLIENTS 64
#define CLIENT_BACKLOG (1 << 20)   /* unsent output a client may have before it is dropped */
#define ERROR_MAX 4096             /* bytes of the runtime's stderr kept for an error line */
#define FLUSH_CLIENTS_MS 2000      /* how long the end waits for clients to take their output */
#define TTY_DRAIN_QUIET_MS 100     /* a pty with nothing to read this long is drained */
#define CONSOLE_PLACEHOLDER "{console-socket}"

/* ---------------------------------------------------------------- options */

static struct {
	const char *id;
	int sync_fd;
	const char *pid_file;
	const char *monitor_pid_file;
	int tty, keep_stdin, stdin_once;
	int log_none;
	const char *log_path;
	long long log_max_size;
	long log_max_file;
	const char *attach_path;
	int attach_fd;
	const char *ctl_path;
	const char *exit_path;
	char **exit_argv;
	int exit_argc;
	char **runtime_argv;
	pid_t adopt_pid;
	int stdin_fd, stdout_fd, stderr_fd, pty_fd;
	long long delay_ms;      /* delay mode: sleep, then exec the command */
} opt = {
	.sync_fd = -1, .log_max_file = 1, .attach_fd = -1,
	.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .pty_fd = -1,
	.delay_ms = -1,
};

/* ---------------------------------------------------------------- small helpers */

static int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {  /* a non-blocking pipe from the engine: wait for room */
				struct pollfd room = {.fd = fd, .events = POLLOUT};
				if (poll(&room, 1, -1) >= 0 || errno == EINTR)
					continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void set_flags(int fd, int nonblock)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (nonblock) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static struct timespec now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static long long ms_since(const struct timespec *start)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - start->tv_sec) * 1000LL + (t.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * RFC 3339 in UTC. trim: Go's RFC3339Nano, as Docker's log times are (no
 * trailing zeros, no fraction when it is zero); else always 9 digits.
 */
static size_t format_time(char *out, size_t size, const struct timespec *ts, int trim)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	int n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n + 12 > size)
		return 0;
	size_t len = (size_t)n;
	if (ts->tv_nsec != 0 || !trim) {
		char frac[10];
		snprintf(frac, sizeof frac, "%09ld", ts->tv_nsec);
		size_t digits = 9;
		while (trim && digits > 0 && frac[digits - 1] == '0')
			digits--;
		out[len++] = '.';
		memcpy(out + len, frac, digits);
		len += digits;
	}
	out[len++] = 'Z';
	out[len] = '\0';
	return len;
}

/* ---------------------------------------------------------------- JSON text */

typedef void (*put_fn)(const char *data, size_t n);

/*
 * Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 if invalid.
 */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		need = 2;
	else if (b >= 0xE0 && b <= 0xEF) {
		need = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

/* Escapes s as Docker's json-file encoder does (see docs/monitor.md). */
static void json_escape(const unsigned char *s, size_t n, put_fn put)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0, i = 0;
	while (i < n) {
		unsigned char b = s[i];
		if (b < 0x80) {
			if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
				i++;
				continue;
			}
			if (start < i)
				put((const char *)s + start, i - start);
			char esc[6] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 0xF]};
			if (b == '\\' || b == '"') {
				esc[1] = (char)b;
				put(esc, 2);
			} else if (b == '\n') {
				put("\\n", 2);
			} else if (b == '\r') {
				put("\\r", 2);
			} else {
				put(esc, 6);
			}
			start = ++i;
			continue;
		}
		size_t len = utf8_sequence(s + i, n - i);
		if (len == 0) {
			if (start < i)
				put((const char *)s + start, i - start);
			put("\\ufffd", 6);
			start = ++i;
			continue;
		}
		if (len == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
			if (start < i)
				put((const char *)s + start, i - start);
			put(s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
			start = i + 3;
		}
		i += len;
	}
	if (start < n)
		put((const char *)s + start, n - start);
}

/* A small string for sync lines and the exit file. */
static char text[2 * ERROR_MAX * 6 + 512];
static size_t text_len;

static void text_put(const char *data, size_t n)
{
	if (n > sizeof text - 1 - text_len)
		n = sizeof text - 1 - text_len;
	memcpy(text + text_len, data, n);
	text_len += n;
	text[text_len] = '\0';
}

__attribute__((format(printf, 1, 2))) static void text_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text + text_len, sizeof text - text_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		text_len += (size_t)n < sizeof text - text_len ? (size_t)n : sizeof text - 1 - text_len;
}

/* Writes text to path through path.tmp and a rename, so readers see all or nothing. */
static int write_file_atomically(const char *path)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 5);
	if (tmp == NULL)
		return -1;
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok = fd >= 0 && write_all(fd, text, text_len) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- sync and failure */

static int sync_sent;
static char console_dir[128];   /* the console socket's private directory, while it exists */
static char console_path[160];
static int console_fd = -1;

static void send_sync(void)
{
	if (opt.sync_fd >= 0) {
		write_all(opt.sync_fd, text, text_len);
		close(opt.sync_fd);
		opt.sync_fd = -1;
	}
	sync_sent = 1;
}

static void remove_console_socket(void)
{
	close_fd(&console_fd);
	if (console_dir[0]) {
		unlink(console_path);
		rmdir(console_dir);
		console_dir[0] = '\0';
	}
}

/* The container could not be set up: say so on the sync fd and in the exit file, exit 1. */
__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	char message[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	remove_console_socket();

	if (!sync_sent) {
		text_len = 0;
		text_put("{\"error\": \"", 11);
		json_escape((const unsigned char *)message, strlen(message), text_put);
		text_put("\"}\n", 3);
		send_sync();
	}
	if (opt.exit_path) {
		struct timespec ts = now();
		char when[64];
		format_time(when, sizeof when, &ts, 0);
		text_len = 0;
		text_printf("{\"exitCode\": -1, \"signal\": 0, \"oomKilled\": false, \"finishedAt\": \"%s\", \"error\": \"", when);
		json_escape((const unsigned char *)message, strlen(message), text_put);
		text_put("\"}\n", 3);
		write_file_atomically(opt.exit_path);
	}
	exit(1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	dprintf(2, "dockyard-monitor: %s\n", message);
	if (opt.sync_fd >= 0 && fcntl(opt.sync_fd, F_GETFD) >= 0) {
		text_len = 0;
		text_put("{\"error\": \"", 11);
		json_escape((const unsigned char *)message, strlen(message), text_put);
		text_put("\"}\n", 3);
		send_sync();
	}
	exit(2);
}

/* ---------------------------------------------------------------- signals and children */

static const int ignored_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE};
static sigset_t blocked;        /* SIGCHLD, read through a signalfd */
static int oom_adj_before = INT_MIN;

static void set_oom_score_adj(int value)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char s[16];
	int n = snprintf(s, sizeof s, "%d", value);
	if (write(fd, s, (size_t)n) < 0) {
		/* without CAP_SYS_RESOURCE the score cannot be lowered: keep it */
	}
	close(fd);
}

static void lower_oom_score(void)
{
	int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char s[16] = {0};
	ssize_t n = read(fd, s, sizeof s - 1);
	close(fd);
	if (n <= 0)
		return;
	oom_adj_before = atoi(s);
	set_oom_score_adj(-1000);
}

/* In a forked child, before exec: the signal state and oom score a program expects. */
static void reset_child(void)
{
	for (size_t i = 0; i < sizeof ignored_signals / sizeof ignored_signals[0]; i++)
		signal(ignored_signals[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (oom_adj_before != INT_MIN)
		set_oom_score_adj(oom_adj_before);
}

static void setup_signals(void)
{
	for (size_t i = 0; i < sizeof ignored_signals / sizeof ignored_signals[0]; i++)
		signal(ignored_signals[i], SIG_IGN);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
}

static int exit_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* ---------------------------------------------------------------- descriptors */

static int fd_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every descriptor but stdio and the ones the options name. */
static void close_unnamed_fds(void)
{
	int keep[9] = {0, 1, 2, opt.sync_fd, opt.stdin_fd, opt.stdout_fd, opt.stderr_fd, opt.pty_fd,
		       opt.attach_fd};
	qsort(keep, 9, sizeof keep[0], fd_cmp);
	unsigned int from = 0;
	for (int i = 0; i < 9; i++) {
		if (keep[i] < 0 || (unsigned int)keep[i] < from)
			continue;
		if ((unsigned int)keep[i] > from && close_range(from, (unsigned int)keep[i] - 1, 0) != 0)
			for (int fd = (int)from; fd < keep[i]; fd++)
				close(fd);
		from = (unsigned int)keep[i] + 1;
	}
	if (close_range(from, ~0U, 0) != 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
			for (rlim_t fd = from; fd < rl.rlim_cur; fd++)
				close((int)fd);
	}
}

static void stdio_to_dev_null(void)
{
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* A unix socket address for path, through /proc/self/fd when the path is too long. */
static int socket_address(const char *path, struct sockaddr_un *addr, int *dir_fd)
{
	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	*dir_fd = -1;
	if (strlen(path) < sizeof addr->sun_path) {
		memcpy(addr->sun_path, path, strlen(path));
		return 0;
	}
	const char *slash = strrchr(path, '/');
	char *dir = strndup(path, (size_t)(slash - path) + 1);
	if (dir == NULL)
		return -1;
	*dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (*dir_fd < 0)
		return -1;
	int n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
	if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
		close_fd(dir_fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int listen_unix(const char *path, mode_t mode)
{
	struct sockaddr_un addr;
	int dir_fd;
	if (socket_address(path, &addr, &dir_fd) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ok = fd >= 0;
	if (ok && (unlink(path) == 0 || errno == ENOENT)) {
		/* the umask makes the socket with its mode, never a wider one */
		mode_t old = umask(~mode & 0777);
		ok = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
		umask(old);
		ok = ok && chmod(path, mode) == 0 && listen(fd, 16) == 0;
	} else
		ok = 0;
	int saved = errno;
	close_fd(&dir_fd);
	if (!ok) {
		close_fd(&fd);
		errno = saved;
	}
	return fd;
}

/* ---------------------------------------------------------------- the log */

/* Big buffers stay out of initialised structs: in .bss, a page costs nothing
 * until it is touched; in .data, it is read from the binary. */
static char log_buf[32768];
static struct {
	int fd;
	long long size;         /* bytes in the file, including the buffered ones */
	long long entry_end;    /* where the last finished entry ends (in size's terms) */
	long long whole;        /* bytes on disk that end with a whole entry */
	int dropping;           /* a write failed in the current entry: drop the rest */
	size_t len;
} lg = {.fd = -1};

static void log_flush(void)
{
	if (lg.len == 0 || lg.fd < 0) {
		lg.len = 0;
		return;
	}
	if (write_all(lg.fd, log_buf, lg.len) == 0) {
		lg.whole = lg.entry_end;
	} else {
		/* A full disk: this output is lost, but the file is cut back to its
		 * last whole entry, so a reader never meets half a line. */
		if (ftruncate(lg.fd, lg.whole) != 0) {
			/* nothing more to do; the next entry starts on a line of its own anyway */
		}
		lg.size = lg.entry_end = lg.whole;
		lg.dropping = 1;
	}
	lg.len = 0;
}

static void log_put(const char *data, size_t n)
{
	if (lg.dropping)
		return;
	lg.size += (long long)n;
	while (n > 0) {
		if (lg.len == sizeof log_buf)
			log_flush();
		size_t take = sizeof log_buf - lg.len < n ? sizeof log_buf - lg.len : n;
		memcpy(log_buf + lg.len, data, take);
		lg.len += take;
		data += take;
		n -= take;
	}
}

static int log_open(int truncate)
{
	lg.fd = open(opt.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
	if (lg.fd < 0)
		return -1;
	struct stat st;
	lg.size = fstat(lg.fd, &st) == 0 ? (long long)st.st_size : 0;
	lg.whole = lg.entry_end = lg.size;
	lg.len = 0;
	return 0;
}

static void log_reopen(void)
{
	log_flush();
	close_fd(&lg.fd);
	log_open(0);
}

/* Docker's rotation: PATH.(N-2) -> PATH.(N-1), ..., PATH -> PATH.1, a new PATH. */
static void log_rotate(void)
{
	log_flush();
	close_fd(&lg.fd);
	size_t len = strlen(opt.log_path);
	char *from = malloc(len + 24), *to = malloc(len + 24);
	if (from != NULL && to != NULL) {
		if (opt.log_max_file > 1) {
			snprintf(to, len + 24, "%s.%ld", opt.log_path, opt.log_max_file - 1);
			unlink(to);
			for (long i = opt.log_max_file - 1; i > 1; i--) {
				snprintf(from, len + 24, "%s.%ld", opt.log_path, i - 1);
				snprintf(to, len + 24, "%s.%ld", opt.log_path, i);
				rename(from, to);
			}
			snprintf(to, len + 24, "%s.1", opt.log_path);
			rename(opt.log_path, to);
		} else
			unlink(opt.log_path);
	}
	free(from);
	free(to);
	log_open(1);
}

static void log_entry(const char *stream, const char *line, size_t n, int newline,
		      const struct timespec *ts)
{
	if (opt.log_none)
		return;
	if (lg.fd < 0 && log_open(0) != 0)
		return;
	if (opt.log_max_size > 0 && lg.size >= opt.log_max_size)
		log_rotate();
	char when[64];
	size_t when_len = format_time(when, sizeof when, ts, 1);
	lg.dropping = 0;
	log_put("{\"log\":\"", 8);
	json_escape((const unsigned char *)line, n, log_put);
	if (newline)
		log_put("\\n", 2);
	log_put("\",\"stream\":\"", 12);
	log_put(stream, strlen(stream));
	log_put("\",\"time\":\"", 10);
	log_put(when, when_len);
	log_put("\"}\n", 3);
	if (!lg.dropping)
		lg.entry_end = lg.size;
	lg.dropping = 0;
}

/* ---------------------------------------------------------------- output streams */

/* The container's stdin, as attach clients feed it. */
static int in_fd = -1;               /* the stdin pipe's write end, or the pty master */
static int stdin_open;               /* client input goes to the container */
static int close_stdin_when_written; /* --stdin-once: a client's input ended */
static char in_buf[16384];
static size_t in_off, in_len;

struct stream {
	int fd;                  /* our read end, -1 once at its end */
	unsigned char id;        /* stdcopy's stream number */
	const char *name;
	size_t pending_len;      /* text of an unfinished line */
	int partial;             /* pieces of this line were logged already */
	struct timespec partial_time;
	char *pending;           /* LINE_MAX_BYTES */
};

static char out_pending[LINE_MAX_BYTES], err_pending[LINE_MAX_BYTES];
static struct stream out = {.fd = -1, .id = 1, .name = "stdout", .pending = out_pending};
static struct stream err = {.fd = -1, .id = 2, .name = "stderr", .pending = err_pending};

/* A line ends: log it with its newline, at the time its first piece came. */
static void line_done(struct stream *s, const char *line, size_t n)
{
	struct timespec ts = s->partial ? s->partial_time : now();
	log_entry(s->name, line, n, 1, &ts);
	s->partial = 0;
}

/* Log what is pending without a newline (16 KiB of it, or the stream's end). */
static void line_piece(struct stream *s, const char *piece, size_t n)
{
	if (!s->partial) {
		s->partial_time = now();
		s->partial = 1;
	}
	log_entry(s->name, piece, n, 0, &s->partial_time);
}

/* Split output into log entries exactly as Docker's log copier does. */
static void stream_log(struct stream *s, const char *data, size_t n)
{
	while (n > 0) {
		size_t room = LINE_MAX_BYTES - s->pending_len;
		size_t scan = n < room ? n : room;
		const char *nl = memchr(data, '\n', scan);
		if (nl != NULL) {
			size_t seg = (size_t)(nl - data);
			if (s->pending_len == 0) {
				line_done(s, data, seg);
			} else {
				memcpy(s->pending + s->pending_len, data, seg);
				line_done(s, s->pending, s->pending_len + seg);
				s->pending_len = 0;
			}
			data += seg + 1;
			n -= seg + 1;
		} else if (scan == room) {
			if (s->pending_len == 0) {
				line_piece(s, data, scan);
			} else {
				memcpy(s->pending + s->pending_len, data, scan);
				line_piece(s, s->pending, LINE_MAX_BYTES);
				s->pending_len = 0;
			}
			data += scan;
			n -= scan;
		} else {
			memcpy(s->pending + s->pending_len, data, scan);
			s->pending_len += scan;
			n = 0;
		}
	}
}

static void stream_end(struct stream *s)
{
	if (s->pending_len > 0)
		line_piece(s, s->pending, s->pending_len);
	s->pending_len = 0;
	s->partial = 0;
	if (s->fd >= 0 && s->fd == in_fd) {  /* a pty master is the terminal's input too */
		in_fd = -1;
		stdin_open = 0;
		in_off = in_len = 0;
	}
	close_fd(&s->fd);
}

/* ---------------------------------------------------------------- attach clients */

struct client {
	int fd;
	int reading;             /* its input has not ended */
	char *buf;               /* output it has not taken yet: buf[off..len) */
	size_t off, len, cap;
};

static struct client clients[MAX_CLIENTS];
static int nclients;
static int listen_fd = -1;

static void stdin_close(void)
{
	stdin_open = 0;
	close_stdin_when_written = 0;
	in_off = in_len = 0;
	if (!opt.tty)
		close_fd(&in_fd);
}

static void stdin_write(void)
{
	while (in_off < in_len) {
		ssize_t w = write(in_fd, in_buf + in_off, in_len - in_off);
		if (w > 0) {
			in_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else {
			stdin_close();  /* nobody reads the container's stdin any more */
			return;
		}
	}
	in_off = in_len = 0;
	if (close_stdin_when_written)
		stdin_close();
}

static void client_input_ended(struct client *c)
{
	c->reading = 0;
	if (opt.stdin_once && stdin_open && !opt.tty) {
		close_stdin_when_written = 1;
		if (in_len == 0)
			stdin_close();
	}
}

static void client_drop(struct client *c)
{
	if (c->reading)
		client_input_ended(c);
	close_fd(&c->fd);
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->cap = 0;
}

/* Remove dropped clients from the table. */
static void clients_sweep(void)
{
	int kept = 0;
	for (int i = 0; i < nclients; i++)
		if (clients[i].fd >= 0)
			clients[kept++] = clients[i];
	nclients = kept;
}

static void client_send(struct client *c, const unsigned char *header, const char *data, size_t n)
{
	struct iovec iov[2];
	int count = 0;
	if (header != NULL)
		iov[count++] = (struct iovec){(void *)header, 8};
	iov[count++] = (struct iovec){(void *)data, n};
	size_t total = (header ? 8 : 0) + n, sent = 0;
	if (c->off == c->len) {
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)count};
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			client_drop(c);
			return;
		}
		sent = w > 0 ? (size_t)w : 0;
		if (sent == total)
			return;
	}
	size_t rest = total - sent;
	if (c->len - c->off + rest > CLIENT_BACKLOG) {
		client_drop(c);  /* too far behind: it must not hold the container back */
		return;
	}
	if (c->off > 0 && c->len + rest > c->cap) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len + rest > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		while (cap < c->len + rest)
			cap *= 2;
		char *grown = realloc(c->buf, cap);
		if (grown == NULL) {
			client_drop(c);
			return;
		}
		c->buf = grown;
		c->cap = cap;
	}
	for (int i = 0; i < count; i++) {
		size_t skip = sent < iov[i].iov_len ? sent : iov[i].iov_len;
		memcpy(c->buf + c->len, (char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
		c->len += iov[i].iov_len - skip;
		sent -= skip;
	}
}

static void client_flush(struct client *c)
{
	while (c->off < c->len) {
		ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else {
			client_drop(c);
			return;
		}
	}
	c->off = c->len = 0;
}

static void client_read(struct client *c)
{
	/* the container's stdin takes the bytes straight from in_buf */
	ssize_t r = read(c->fd, in_buf, sizeof in_buf);
	if (r > 0) {
		if (stdin_open) {
			in_off = 0;
			in_len = (size_t)r;
			stdin_write();
		}
	} else if (r == 0) {
		client_input_ended(c);
	} else if (errno != EAGAIN && errno != EINTR) {
		client_drop(c);
	}
}

static void accept_clients(void)
{
	while (nclients < MAX_CLIENTS) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		clients[nclients++] = (struct client){.fd = fd, .reading = 1};
	}
}

static void broadcast(struct stream *s, const char *data, size_t n)
{
	unsigned char header[8] = {s->id, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				   (unsigned char)(n >> 8), (unsigned char)n};
	for (int i = 0; i < nclients; i++)
		if (clients[i].fd >= 0)
			client_send(&clients[i], opt.tty ? NULL : header, data, n);
}

/* ---------------------------------------------------------------- reading the container */

static char chunk[READ_CHUNK];

/* Read once from a stream; returns 1 if data came, 0 at its end, -1 if none now. */
static int stream_read(struct stream *s)
{
	ssize_t r = read(s->fd, chunk, sizeof chunk);
	if (r > 0) {
		broadcast(s, chunk, (size_t)r);
		stream_log(s, chunk, (size_t)r);
		return 1;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	stream_end(s);  /* EOF, or EIO from a pty whose other side is closed */
	return 0;
}

/* After the init exited: read what is left. Pipes are done when empty; a pty may
 * still be moving the last bytes to its master, so it gets a short quiet time. */
static void drain(struct stream *s)
{
	while (s->fd >= 0) {
		int got = stream_read(s);
		if (got == 0)
			break;
		if (got < 0) {
			if (!opt.tty)
				break;
			struct pollfd p = {.fd = s->fd, .events = POLLIN};
			if (poll(&p, 1, TTY_DRAIN_QUIET_MS) <= 0)
				break;
		}
	}
	if (s->fd >= 0)
		stream_end(s);
}

/* ---------------------------------------------------------------- control FIFO */

static void health_ctl(const char *what);  /* health checks, below */

static int ctl_fd = -1;
static char ctl_buf[4096];
static size_t ctl_len;

static void ctl_command(char *line)
{
	unsigned int rows, cols;
	char extra;
	if (sscanf(line, "resize %u %u %c", &rows, &cols, &extra) == 2) {
		if (opt.tty && out.fd >= 0) {
			struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
			ioctl(out.fd, TIOCSWINSZ, &ws);
		}
	} else if (strcmp(line, "reopen-log") == 0) {
		if (!opt.log_none)
			log_reopen();
	} else if (strcmp(line, "health-pause") == 0) {
		health_ctl("pause");
	} else if (strcmp(line, "health-resume") == 0) {
		health_ctl("resume");
	}
}

static void ctl_read(void)
{
	for (;;) {
		ssize_t r = read(ctl_fd, ctl_buf + ctl_len, sizeof ctl_buf - ctl_len);
		if (r <= 0)
			return;
		ctl_len += (size_t)r;
		char *start = ctl_buf, *nl;
		while ((nl = memchr(start, '\n', ctl_len - (size_t)(start - ctl_buf))) != NULL) {
			*nl = '\0';
			ctl_command(start);
			start = nl + 1;
		}
		ctl_len -= (size_t)(start - ctl_buf);
		memmove(ctl_buf, start, ctl_len);
		if (ctl_len == sizeof ctl_buf)
			ctl_len = 0;  /* a line this long is no command */
	}
}

/* ---------------------------------------------------------------- OOM kills */

static char *oom_file;          /* memory.events (v2) or memory.oom_control (v1) */
static long long oom_kills_at_start = -1;

static long long read_oom_kills(void)
{
	if (oom_file == NULL)
		return -1;
	int fd = open(oom_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *line = buf; line != NULL; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, "oom_kill ", 9) == 0)
			return atoll(line + 9);
	return -1;
}

/* Find the init's memory cgroup: the v1 memory controller's, else the v2 group. */
static void find_oom_file(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *v1 = NULL, *v2 = NULL;
	/* lines of "ID:CONTROLLERS:PATH"; v2's is "0::PATH" */
	for (char *line = buf, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *controllers = strchr(line, ':');
		char *group = controllers ? strchr(controllers + 1, ':') : NULL;
		if (group == NULL)
			continue;
		*group++ = '\0';
		controllers++;
		if (strcmp(line, "0") == 0 && *controllers == '\0')
			v2 = group;
		for (char *c = strtok(controllers, ","); c != NULL; c = strtok(NULL, ","))
			if (strcmp(c, "memory") == 0)
				v1 = group;
	}
	const char *format = v1 ? "/sys/fs/cgroup/memory%s/memory.oom_control" : "/sys/fs/cgroup%s/memory.events";
	if (v1 == NULL && v2 == NULL)
		return;
	if (asprintf(&oom_file, format, v1 ? v1 : v2) < 0) {
		oom_file = NULL;
		return;
	}
	oom_kills_at_start = read_oom_kills();
	if (oom_kills_at_start < 0) {  /* no memory controller there */
		free(oom_file);
		oom_file = NULL;
	}
}

/* ---------------------------------------------------------------- starting the container */

static pid_t container_pid = -1;

static void read_available(int fd, char *buf, size_t size, size_t *len)
{
	set_flags(fd, 1);
	for (;;) {
		if (*len == size) {  /* keep the last bytes: the error is at the end */
			memmove(buf, buf + size / 2, size - size / 2);
			*len = size - size / 2;
		}
		ssize_t r = read(fd, buf + *len, size - *len);
		if (r <= 0)
			return;
		*len += (size_t)r;
	}
}

__attribute__((format(printf, 2, 3), noreturn)) static void fail_with_output(int fd, const char *fallback, ...)
{
	char buf[ERROR_MAX + 1];
	size_t len = 0;
	if (fd >= 0)
		read_available(fd, buf, ERROR_MAX, &len);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
			   buf[len - 1] == '\r'))
		len--;
	size_t start = 0;
	while (start < len && (buf[start] == '\n' || buf[start] == ' ' || buf[start] == '\t'))
		start++;
	buf[len] = '\0';
	if (start < len)
		fail("%s", buf + start);
	char message[1024];
	va_list ap;
	va_start(ap, fallback);
	vsnprintf(message, sizeof message, fallback, ap);
	va_end(ap);
	fail("%s", message);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end = strrchr(buf, ')');  /* the command name may hold spaces and parentheses */
	char state;
	int ppid;
	if (end == NULL || sscanf(end + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return ppid;
}

static void make_console_socket(void)
{
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(console_dir, sizeof console_dir, "%s/dockyard-monitor-XXXXXX", tmp);
	if (mkdtemp(console_dir) == NULL) {
		console_dir[0] = '\0';
		fail("cannot make a directory for the console socket in %s: %s", tmp, strerror(errno));
	}
	snprintf(console_path, sizeof console_path, "%s/console.sock", console_dir);
	console_fd = listen_unix(console_path, 0600);
	if (console_fd < 0)
		fail("cannot listen on %s: %s", console_path, strerror(errno));
	for (char **arg = opt.runtime_argv; *arg != NULL; arg++)
		if (strcmp(*arg, CONSOLE_PLACEHOLDER) == 0)
			*arg = console_path;
}

/* The pty master the runtime sent over the console socket, or -1. */
static int receive_pty_master(void)
{
	int conn = accept4(console_fd, NULL, NULL, SOCK_CLOEXEC);
	close_fd(&console_fd);
	if (conn < 0)
		return -1;
	char data[256];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {data, sizeof data};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof control.buf};
	ssize_t r;
	do
		r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	close(conn);
	struct cmsghdr *cmsg = r >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
	return fd;
}

static pid_t read_pid_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[32];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	return pid > 0 && pid <= INT_MAX && *end == '\0' ? (pid_t)pid : -1;
}

/* Spawn mode: run the runtime's create with the container's stdio, as its parent. */
static void create_container(void)
{
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
	if (opt.tty) {
		make_console_socket();
	} else {
		if (opt.keep_stdin && pipe2(in, O_CLOEXEC) != 0)
			fail("cannot make the stdin pipe: %s", strerror(errno));
		if (pipe2(outp, O_CLOEXEC) != 0)
			fail("cannot make the stdout pipe: %s", strerror(errno));
	}
	if (pipe2(errp, O_CLOEXEC) != 0)
		fail("cannot make the stderr pipe: %s", strerror(errno));

	pid_t child = fork();
	if (child < 0)
		fail("cannot fork the runtime: %s", strerror(errno));
	if (child == 0) {
		reset_child();
		if (in[0] >= 0)
			dup2(in[0], 0);
		if (outp[1] >= 0)
			dup2(outp[1], 1);
		dup2(errp[1], 2);
		/* a non-root user in the container may reopen /dev/stdout (as conmon allows) */
		for (int fd = 0; fd < 3; fd++)
			if ((fd == 0 && in[0] >= 0) || (fd == 1 && outp[1] >= 0) || (fd == 2 && !opt.tty))
				fchmod(fd, 0777);
		execvp(opt.runtime_argv[0], opt.runtime_argv);
		dprintf(2, "cannot run %s: %s\n", opt.runtime_argv[0], strerror(errno));
		_exit(127);
	}
	close_fd(&in[0]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);

	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			fail("cannot wait for the runtime: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_with_output(errp[0], "the runtime (%s) exited with status %d and said nothing",
				 opt.runtime_argv[0], exit_status_code(status));

	container_pid = read_pid_file(opt.pid_file);
	if (container_pid < 0)
		fail_with_output(errp[0], "the runtime wrote no pid to %s", opt.pid_file);
	if (parent_of(container_pid) != getpid())
		fail("the container's init (pid %d) is not the monitor's child", (int)container_pid);

	if (opt.tty) {
		int master = receive_pty_master();
		remove_console_socket();
		if (master < 0)
			fail_with_output(errp[0], "the runtime sent no terminal to the console socket "
					 "(process.terminal true and --console-socket " CONSOLE_PLACEHOLDER
					 " in its arguments?)");
		close_fd(&errp[0]);
		out.fd = master;
		in_fd = opt.keep_stdin ? master : -1;
	} else {
		out.fd = outp[0];
		err.fd = errp[0];
		in_fd = in[1];
	}
}

/* Adopt mode: the init is our child already; take the descriptors we were given. */
static void adopt_container(void)
{
	container_pid = opt.adopt_pid;
	if (parent_of(container_pid) != getpid())
		fail("pid %d is not a child of the monitor (pid %d)", (int)container_pid, (int)getpid());
	if (opt.tty) {
		out.fd = opt.pty_fd;
		in_fd = opt.keep_stdin ? opt.pty_fd : -1;
	} else {
		out.fd = opt.stdout_fd;
		err.fd = opt.stderr_fd;
		in_fd = opt.stdin_fd;
	}
}

/* ---------------------------------------------------------------- the container's end, seen by the loop */

static int container_status;
static int container_exited;
static struct timespec finished_at;
static int signal_fd = -1;

/* ---------------------------------------------------------------- health checks */

/*
 * The container's HEALTHCHECK, run on the monitor's own timer (docs/monitor.md,
 * "Health checks"). The engine writes the probe file: the command and the
 * container process's context, read from its config.json (user, groups,
 * capabilities, no_new_privs, rlimits, the seccomp filter compiled to BPF,
 * environment, working directory), and the timings. Each probe is a fork
 * that joins the init's cgroups and namespaces, then a clone into the
 * container's pid namespace (CLONE_PARENT: the monitor's own child) that takes
 * the container's security context and execs the command: what `runc exec`
 * does, without a runtime process.
 */

#define HEALTH_OUTPUT_MAX 4096     /* Docker's maxOutputLen */
#define HEALTH_LOG_MAX 5           /* Docker's maxLogEntries */
#define HEALTH_FILE_MAX (1 << 20)
#define HEALTH_RLIMITS_MAX 16
#define HEALTH_CGROUPS_MAX 32
#define KILLED_WAIT_MS 2000        /* how long a killed check may take to be reaped */

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif

struct probe_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

struct rlimit_entry {
	int resource;
	struct rlimit limit;
};

struct probe_result {
	struct timespec start, end;  /* realtime, for the log */
	long long start_ms;          /* monotonic, for the start period */
	int exit_code;
	size_t len;
	char *output;                /* the running check's: probe_output; the log's: malloc'd */
};

/* The running check's output: in .bss, so a check that prints nothing costs no page. */
static char probe_output[HEALTH_OUTPUT_MAX + 4];  /* room for Docker's "..." */

static struct {
	const char *probe_path;           /* --health-probe */
	const char *state_path;           /* --health-state */
	char **command;                   /* --health-command, the status appended */
	int command_argc;
	int on;                           /* a probe file was loaded */
	char *error;                      /* why it could not be, for every result */
	/* the probe file */
	char **argv, **envp;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups, set_groups;
	int umask_value;
	int has_caps;
	uint64_t caps[5];                 /* bounding, effective, inheritable, permitted, ambient */
	int nnp;
	int nrlimits;
	struct rlimit_entry rlimits[HEALTH_RLIMITS_MAX];
	int oom_score_adj, has_oom;
	const char *bpf_path;             /* read by each check's helper: no pages kept here */
	char *bpf;
	size_t bpf_len;
	unsigned int seccomp_flags;
	int seccomp_late;
	long long interval_ms, timeout_ms, start_period_ms, start_interval_ms;
	int retries;
	const char *timeout_text;
	/* where the init lives */
	char *tasks[HEALTH_CGROUPS_MAX];  /* v1 "tasks" files */
	int ntasks;
	char *v2_dir;                     /* the unified hierarchy's directory, or NULL */
	int cgroups_found;
	/* the state */
	const char *status;
	int failing_streak;
	struct probe_result log[HEALTH_LOG_MAX];
	int log_len;
	struct timespec started;          /* monotonic: the container's start */
	long long next_ms;                /* monotonic ms of the next probe, -1: none */
	int paused;
	/* the probe running now */
	pid_t helper_pid, probe_pid;
	int probe_done, probe_status, helper_done;
	int out_fd, msg_fd;
	long long deadline_ms;
	int timed_out;
	char msg[1024];
	size_t msg_len;
	struct probe_result current;
	pid_t reaped_pids[8];             /* children reaped before their pid was known */
	int reaped_status[8];
	int nreaped;
} hc = {.out_fd = -1, .msg_fd = -1, .next_ms = -1, .status = "starting"};

static long long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static long long ns_to_ms(const char *value, long long fallback)
{
	long long ns = atoll(value);
	if (ns <= 0)
		return fallback;
	return (ns + 999999) / 1000000;  /* at least 1 ms */
}

static char *read_whole(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* a file kept (the probe file) at its own size; /proc files say 0: the most allowed */
	struct stat st;
	size_t max = fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < HEALTH_FILE_MAX
			     ? (size_t)st.st_size : HEALTH_FILE_MAX;
	char *buf = malloc(max + 1);
	size_t n = 0;
	ssize_t r = 0;
	while (buf != NULL && n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (buf == NULL || r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void health_error(const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	free(hc.error);
	hc.error = strdup(message);
}

/* The probe file: NUL-separated "key", "value" pairs (see docs/monitor.md). */
static int health_load(void)
{
	size_t len = 0;
	char *data = read_whole(hc.probe_path, &len);
	if (data == NULL) {
		health_error("cannot read the probe file %s: %s", hc.probe_path, strerror(errno));
		return -1;
	}
	size_t nargs = 0, nenv = 0, ngroups = 0;
	for (size_t i = 0; i < len; i += strlen(data + i) + 1) {
		nargs += strcmp(data + i, "arg") == 0;
		nenv += strcmp(data + i, "env") == 0;
		ngroups += strcmp(data + i, "group") == 0;
		i += strlen(data + i) + 1;  /* skip the value */
	}
	hc.argv = calloc(nargs + 1, sizeof(char *));
	hc.envp = calloc(nenv + 1, sizeof(char *));
	hc.groups = calloc(ngroups + 1, sizeof(gid_t));
	if (hc.argv == NULL || hc.envp == NULL || hc.groups == NULL) {
		health_error("out of memory");
		return -1;
	}
	hc.interval_ms = 30000;
	hc.timeout_ms = 30000;
	hc.start_interval_ms = 5000;
	hc.retries = 3;
	hc.timeout_text = "30s";
	hc.umask_value = 022;
	size_t a = 0, e = 0;
	for (size_t i = 0; i < len;) {
		const char *key = data + i;
		i += strlen(key) + 1;
		if (i >= len)
			break;
		const char *value = data + i;
		i += strlen(value) + 1;
		if (strcmp(key, "arg") == 0)
			hc.argv[a++] = (char *)value;
		else if (strcmp(key, "env") == 0)
			hc.envp[e++] = (char *)value;
		else if (strcmp(key, "group") == 0)
			hc.groups[hc.ngroups++] = (gid_t)strtoul(value, NULL, 10);
		else if (strcmp(key, "set-groups") == 0)
			hc.set_groups = 1;
		else if (strcmp(key, "cwd") == 0)
			hc.cwd = value;
		else if (strcmp(key, "uid") == 0)
			hc.uid = (uid_t)strtoul(value, NULL, 10);
		else if (strcmp(key, "gid") == 0)
			hc.gid = (gid_t)strtoul(value, NULL, 10);
		else if (strcmp(key, "umask") == 0)
			hc.umask_value = (int)strtol(value, NULL, 8);
		else if (strcmp(key, "caps") == 0)
			hc.has_caps = sscanf(value, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
					     &hc.caps[0], &hc.caps[1], &hc.caps[2], &hc.caps[3], &hc.caps[4]) == 5;
		else if (strcmp(key, "nnp") == 0)
			hc.nnp = atoi(value);
		else if (strcmp(key, "rlimit") == 0 && hc.nrlimits < HEALTH_RLIMITS_MAX) {
			unsigned long long soft, hard;
			int resource;
			if (sscanf(value, "%d %llu %llu", &resource, &soft, &hard) == 3)
				hc.rlimits[hc.nrlimits++] = (struct rlimit_entry){
					resource, {(rlim_t)soft, (rlim_t)hard}};
		} else if (strcmp(key, "oom-score-adj") == 0) {
			hc.oom_score_adj = atoi(value);
			hc.has_oom = 1;
		} else if (strcmp(key, "seccomp") == 0) {
			hc.bpf_path = value;
		} else if (strcmp(key, "seccomp-flags") == 0)
			hc.seccomp_flags = (unsigned int)strtoul(value, NULL, 10);
		else if (strcmp(key, "seccomp-late") == 0)
			hc.seccomp_late = atoi(value);
		else if (strcmp(key, "interval") == 0)
			hc.interval_ms = ns_to_ms(value, 30000);
		else if (strcmp(key, "timeout") == 0)
			hc.timeout_ms = ns_to_ms(value, 30000);
		else if (strcmp(key, "start-period") == 0)
			hc.start_period_ms = ns_to_ms(value, 0);
		else if (strcmp(key, "start-interval") == 0)
			hc.start_interval_ms = ns_to_ms(value, 5000);
		else if (strcmp(key, "retries") == 0)
			hc.retries = atoi(value) > 0 ? atoi(value) : 3;
		else if (strcmp(key, "timeout-text") == 0)
			hc.timeout_text = value;
		else if (strcmp(key, "error") == 0) {
			health_error("%s", value);  /* the engine could not describe the check */
			return -1;
		}
	}
	if (a == 0) {
		health_error("the probe file %s has no command", hc.probe_path);
		return -1;
	}
	return 0;
}

/* ---- where the init is: its cgroups, found as the kernel lists them */

static int has_option(const char *options, const char *name, size_t len)
{
	for (const char *p = options; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return 1;
	return 0;
}

/* The mount point of the v1 hierarchy holding every controller in `controllers`
 * ("cpu,cpuacct", "name=systemd"), or of cgroup2 when it is empty. */
static char *hierarchy_of(const char *controllers, char *mountinfo)
{
	char *found = NULL;
	for (char *line = mountinfo, *next; line != NULL && *line && found == NULL; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		char copy[1024];
		snprintf(copy, sizeof copy, "%s", line);
		if (next)
			*next++ = '\n';
		char *dash = strstr(copy, " - ");
		if (dash == NULL)
			continue;
		char fstype[32], super[512];
		if (sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
			continue;
		char root[512], point[512];
		if (sscanf(copy, "%*s %*s %*s %511s %511s", root, point) != 2 || strcmp(root, "/") != 0)
			continue;
		if (*controllers == '\0') {
			if (strcmp(fstype, "cgroup2") == 0)
				found = strdup(point);
			continue;
		}
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		int all = 1;
		for (const char *c = controllers; *c && all;) {
			size_t n = strcspn(c, ",");
			all = has_option(super, c, n);
			c += n + (c[n] == ',');
		}
		if (all)
			found = strdup(point);
	}
	return found;
}

static void find_cgroups(void)
{
	hc.cgroups_found = 1;
	size_t len;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)container_pid);
	char *lines = read_whole(path, &len);
	char *mountinfo = read_whole("/proc/self/mountinfo", &len);
	char *ours = read_whole("/proc/self/cgroup", &len);
	if (lines == NULL || mountinfo == NULL || ours == NULL)
		goto out;
	for (char *line = lines, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *controllers = strchr(line, ':');
		char *group = controllers ? strchr(controllers + 1, ':') : NULL;
		if (group == NULL)
			continue;
		*group++ = '\0';
		controllers++;
		/* the monitor's own cgroup there (no cgroup of its own, rootless): nothing to join */
		char mine[4200];
		snprintf(mine, sizeof mine, "%s:%s\n", line, group);  /* line is "ID:CONTROLLERS" */
		if (strstr(ours, mine) == ours || (strstr(ours, mine) && strstr(ours, mine)[-1] == '\n'))
			continue;
		char *point = hierarchy_of(controllers, mountinfo);
		if (point == NULL)
			continue;
		char *dir;
		if (asprintf(&dir, "%s%s", point, strcmp(group, "/") == 0 ? "" : group) < 0)
			dir = NULL;
		free(point);
		if (dir == NULL)
			continue;
		if (*controllers == '\0') {
			free(hc.v2_dir);
			hc.v2_dir = dir;
		} else if (hc.ntasks < HEALTH_CGROUPS_MAX) {
			char *tasks;
			if (asprintf(&tasks, "%s/tasks", dir) >= 0)
				hc.tasks[hc.ntasks++] = tasks;
			free(dir);
		} else
			free(dir);
	}
out:
	free(lines);
	free(mountinfo);
	free(ours);
}

/* ---- the probe's own process */

/* A message for the monitor on the probe's message pipe: one write, so whole. */
static void probe_say(int fd, char kind, const char *fmt, ...)
{
	char buf[512];
	buf[0] = kind;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + 1, sizeof buf - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t len = 1 + ((size_t)n < sizeof buf - 2 ? (size_t)n : sizeof buf - 2);
	buf[len++] = '\n';
	if (write(fd, buf, len) < 0) {
		/* the monitor reads what it can; nothing else to do here */
	}
}

static int load_filter(void)
{
	struct { unsigned short len; void *filter; } prog = {(unsigned short)(hc.bpf_len / 8), hc.bpf};
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, hc.seccomp_flags, &prog);
}

/* execve through the container's PATH (the probe's environment), as runc resolves it. */
static void exec_in_path(int msg)
{
	const char *name = hc.argv[0];
	if (strchr(name, '/') != NULL) {
		execve(name, hc.argv, hc.envp);
		probe_say(msg, 'E', "exec: \"%s\": %s", name, strerror(errno));
		_exit(127);
	}
	const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **env = hc.envp; *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			search = *env + 5;
	int denied = 0;
	char candidate[4096];
	for (const char *dir = search; dir != NULL;) {
		size_t n = strcspn(dir, ":");
		snprintf(candidate, sizeof candidate, "%.*s/%s", (int)n, n ? dir : ".", name);
		execve(candidate, hc.argv, hc.envp);
		if (errno == EACCES)
			denied = 1;
		dir = dir[n] == ':' ? dir + n + 1 : NULL;
	}
	if (denied)
		probe_say(msg, 'E', "exec: \"%s\": permission denied", name);
	else
		probe_say(msg, 'E', "exec: \"%s\": executable file not found in $PATH", name);
	_exit(127);
}

/* In the clone: the container's user, capabilities, limits and filter; exec. */
__attribute__((noreturn)) static void probe_exec(int out_w, int msg, int null_fd)
{
	prctl(PR_SET_DUMPABLE, 0);  /* nothing in the container may open our /proc/PID/exe */
	dup2(null_fd, 0);
	dup2(out_w, 1);
	dup2(out_w, 2);
	for (int i = 0; i < hc.nrlimits; i++)
		if (setrlimit(hc.rlimits[i].resource, &hc.rlimits[i].limit) != 0) {
			probe_say(msg, 'E', "setrlimit %d: %s", hc.rlimits[i].resource, strerror(errno));
			_exit(127);
		}
	if (hc.has_oom)
		set_oom_score_adj(hc.oom_score_adj);
	if (hc.bpf != NULL && !hc.seccomp_late && load_filter() != 0) {
		probe_say(msg, 'E', "cannot load the seccomp filter: %s", strerror(errno));
		_exit(127);
	}
	int cwd_done = hc.cwd == NULL || chdir(hc.cwd) == 0;
	if (hc.has_caps) {
		prctl(PR_SET_KEEPCAPS, 1);
		for (int cap = 0; cap <= 63; cap++)
			if (!(hc.caps[0] & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap) != 0 && errno != EINVAL) {
				probe_say(msg, 'E', "cannot drop capability %d: %s", cap, strerror(errno));
				_exit(127);
			}
	}
	if ((hc.set_groups && setgroups((size_t)hc.ngroups, hc.groups) != 0) ||
	    setresgid(hc.gid, hc.gid, hc.gid) != 0 || setresuid(hc.uid, hc.uid, hc.uid) != 0) {
		probe_say(msg, 'E', "cannot become %u:%u: %s", (unsigned)hc.uid, (unsigned)hc.gid, strerror(errno));
		_exit(127);
	}
	if (!cwd_done && chdir(hc.cwd) != 0) {  /* a directory only the user may enter */
		probe_say(msg, 'E', "chdir to cwd (\"%s\") set in config.json failed: %s", hc.cwd, strerror(errno));
		_exit(127);
	}
	if (hc.has_caps) {
		prctl(PR_SET_KEEPCAPS, 0);
		struct cap_header header = {0x20080522, 0};  /* _LINUX_CAPABILITY_VERSION_3 */
		struct cap_data data[2];
		for (int w = 0; w < 2; w++)
			data[w] = (struct cap_data){(uint32_t)(hc.caps[1] >> (32 * w)),
						    (uint32_t)(hc.caps[3] >> (32 * w)),
						    (uint32_t)(hc.caps[2] >> (32 * w))};
		if (syscall(SYS_capset, &header, data) != 0) {
			probe_say(msg, 'E', "capset: %s", strerror(errno));
			_exit(127);
		}
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		for (int cap = 0; cap <= 63; cap++)
			if (hc.caps[4] & (1ULL << cap))
				prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	}
	if (hc.nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		probe_say(msg, 'E', "no_new_privs: %s", strerror(errno));
		_exit(127);
	}
	umask((mode_t)hc.umask_value);
	if (hc.bpf != NULL && hc.seccomp_late && load_filter() != 0) {
		probe_say(msg, 'E', "cannot load the seccomp filter: %s", strerror(errno));
		_exit(127);
	}
	exec_in_path(msg);
	_exit(127);
}

static const char *const ns_names[] = {"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"};

/* The forked helper: into the init's cgroups and namespaces, then the clone. */
__attribute__((noreturn)) static void probe_helper(int out_w, int msg)
{
	reset_child();
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int ns_fds[8];
	char path[64];
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)container_pid, ns_names[i]);
		ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof path, "/proc/self/ns/%s", ns_names[i]);
		struct stat theirs, ours;
		if (ns_fds[i] >= 0 && fstat(ns_fds[i], &theirs) == 0 && stat(path, &ours) == 0 &&
		    theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
			close_fd(&ns_fds[i]);  /* shared with the host: nothing to join */
	}
	if (ns_fds[7] < 0 && ns_fds[5] < 0) {
		probe_say(msg, 'E', "the container's process (pid %d) is gone", (int)container_pid);
		_exit(1);
	}
	for (int i = 0; i < hc.ntasks; i++) {
		int fd = open(hc.tasks[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			probe_say(msg, 'E', "cannot join the cgroup %s: %s", hc.tasks[i], strerror(errno));
			_exit(1);
		}
		close(fd);
	}
	if (hc.bpf_path != NULL) {
		hc.bpf = read_whole(hc.bpf_path, &hc.bpf_len);
		if (hc.bpf == NULL || hc.bpf_len == 0 || hc.bpf_len % 8 != 0) {
			probe_say(msg, 'E', "cannot read the seccomp filter %s", hc.bpf_path);
			_exit(1);
		}
	}
	int v2 = hc.v2_dir ? open(hc.v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	/* for a kernel without CLONE_INTO_CGROUP: opened here, on the host's side of the mounts */
	int v2_procs = v2 >= 0 ? openat(v2, "cgroup.procs", O_WRONLY | O_CLOEXEC) : -1;
	for (int i = 0; i < 8; i++)
		if (ns_fds[i] >= 0 && setns(ns_fds[i], 0) != 0) {
			probe_say(msg, 'E', "cannot join the container's %s namespace: %s", ns_names[i], strerror(errno));
			_exit(1);
		}
	/* CLONE_PARENT: the monitor's child, so the monitor reaps it and may kill it; its
	 * exit signal is then the helper's own (SIGCHLD), and clone3 wants 0 here */
	struct probe_clone_args args = {.flags = CLONE_PARENT};
	if (v2 >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)v2;
	}
	long child = syscall(SYS_clone3, &args, sizeof args);
	if (child < 0 && v2 >= 0) {  /* an older kernel: move, then clone */
		if (v2_procs < 0 || write(v2_procs, "0", 1) != 1) {
			probe_say(msg, 'E', "cannot join the cgroup %s: %s", hc.v2_dir, strerror(errno));
			_exit(1);
		}
		args = (struct probe_clone_args){.flags = CLONE_PARENT};
		child = syscall(SYS_clone3, &args, sizeof args);
	}
	if (child < 0)
		child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child == 0)
		probe_exec(out_w, msg, null_fd);
	if (child < 0) {
		probe_say(msg, 'E', "cannot start the health check's process: %s", strerror(errno));
		_exit(1);
	}
	probe_say(msg, 'P', "%ld", child);
	_exit(0);
}

/* ---- the monitor's side */

/* health.json is written through a buffer of its own: five outputs of 4 KiB, escaped,
 * do not fit the small one the sync line and the exit file use. */
static struct {
	char *buf;
	size_t len, cap;
	int failed;
} hs;

static void hs_put(const char *data, size_t n)
{
	if (hs.len + n > hs.cap) {
		size_t cap = hs.cap ? hs.cap : 1024;
		while (cap < hs.len + n)
			cap *= 2;
		char *grown = realloc(hs.buf, cap);
		if (grown == NULL) {
			hs.failed = 1;
			return;
		}
		hs.buf = grown;
		hs.cap = cap;
	}
	memcpy(hs.buf + hs.len, data, n);
	hs.len += n;
}

static void health_write_state(void)
{
	if (hc.state_path == NULL)
		return;
	char head[128];
	hs.len = 0;
	hs.failed = 0;
	int n = snprintf(head, sizeof head, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", hc.status,
			 hc.failing_streak);
	hs_put(head, (size_t)n);
	for (int i = 0; i < hc.log_len; i++) {
		struct probe_result *r = &hc.log[i];
		char start[64], end[64], entry[256];
		format_time(start, sizeof start, &r->start, 1);
		format_time(end, sizeof end, &r->end, 1);
		n = snprintf(entry, sizeof entry, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"",
			     i ? "," : "", start, end, r->exit_code);
		hs_put(entry, (size_t)n);
		json_escape((const unsigned char *)r->output, r->len, hs_put);
		hs_put("\"}", 2);
	}
	hs_put("]}\n", 3);
	if (hs.failed)
		return;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", hc.state_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok = fd >= 0 && write_all(fd, hs.buf, hs.len) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, hc.state_path) != 0)
		unlink(tmp);
}

static void health_run_command(void)
{
	if (hc.command_argc == 0)
		return;
	hc.command[hc.command_argc] = (char *)hc.status;
	pid_t child = fork();
	if (child == 0) {
		reset_child();
		setsid();
		stdio_to_dev_null();
		execvp(hc.command[0], hc.command);
		_exit(127);
	}
	/* reaped by the loop like any orphan */
}

static long long health_interval(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	long long elapsed = (t.tv_sec - hc.started.tv_sec) * 1000LL + (t.tv_nsec - hc.started.tv_nsec) / 1000000;
	if (elapsed < hc.start_period_ms && strcmp(hc.status, "starting") == 0)
		return hc.start_interval_ms;
	return hc.interval_ms;
}

/* Docker's handleProbeResult: the log, the streak, the status; an event on a change. */
static void health_result(struct probe_result *r)
{
	const char *before = hc.status;
	if (hc.log_len == HEALTH_LOG_MAX) {
		free(hc.log[0].output);
		memmove(&hc.log[0], &hc.log[1], sizeof hc.log[0] * (HEALTH_LOG_MAX - 1));
		hc.log_len--;
	}
	/* the log keeps each output at its own size: most checks print a line or nothing */
	struct probe_result kept = *r;
	kept.output = malloc(r->len ? r->len : 1);
	if (kept.output == NULL)
		kept.len = 0;
	else
		memcpy(kept.output, r->output, r->len);
	hc.log[hc.log_len] = kept;
	hc.log_len++;
	if (r->exit_code == 0) {
		hc.failing_streak = 0;
		hc.status = "healthy";
	} else {
		long long since_start = r->start_ms - (hc.started.tv_sec * 1000LL + hc.started.tv_nsec / 1000000);
		if (!(strcmp(hc.status, "starting") == 0 && since_start < hc.start_period_ms)) {
			hc.failing_streak++;
			if (hc.failing_streak >= hc.retries)
				hc.status = "unhealthy";
		}
	}
	health_write_state();
	if (strcmp(before, hc.status) != 0)
		health_run_command();
}

/* Output of the running probe: the first 4096 bytes kept, the rest dropped (Docker's
 * limitedBuffer). Returns what read returned. */
static ssize_t health_read_output(void)
{
	struct probe_result *r = &hc.current;
	char discard[256];  /* past the first 4096 bytes: read and dropped */
	ssize_t n = r->len < HEALTH_OUTPUT_MAX ? read(hc.out_fd, r->output + r->len, HEALTH_OUTPUT_MAX - r->len)
					       : read(hc.out_fd, discard, sizeof discard);
	if (n > 0) {
		if (r->len == HEALTH_OUTPUT_MAX)
			hc.timed_out |= 2;  /* truncated: "..." is added at the end */
		else
			r->len += (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close_fd(&hc.out_fd);
	}
	return n;
}

/* The helper's and the clone's messages: "P<pid>" (the probe's pid), "E<error>". */
static void health_read_messages(void)
{
	char buf[512];
	while (hc.msg_fd >= 0) {
		ssize_t n = read(hc.msg_fd, buf, sizeof buf);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				close_fd(&hc.msg_fd);
			break;
		}
		size_t keep = sizeof hc.msg - 1 - hc.msg_len < (size_t)n ? sizeof hc.msg - 1 - hc.msg_len : (size_t)n;
		memcpy(hc.msg + hc.msg_len, buf, keep);
		hc.msg_len += keep;
		hc.msg[hc.msg_len] = '\0';
	}
	if (hc.probe_pid == 0) {
		for (char *p = hc.msg; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (*p == 'P')
				hc.probe_pid = (pid_t)atol(p + 1);
		for (int i = 0; hc.probe_pid && i < hc.nreaped; i++)
			if (hc.reaped_pids[i] == hc.probe_pid) {
				hc.probe_done = 1;
				hc.probe_status = hc.reaped_status[i];
			}
	}
}

static void health_finish_probe(void)
{
	struct probe_result *r = &hc.current;
	/* whatever the probe wrote and has not been read yet (not waiting for the end
	 * of its output: a child it left behind may hold the pipe open) */
	while (hc.out_fd >= 0 && health_read_output() > 0)
		;
	health_read_messages();
	r->end = now();
	char *error = NULL;
	for (char *line = hc.msg, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == 'E' && error == NULL)
			error = line + 1;
	}
	if (error == NULL && hc.probe_pid == 0 && !(hc.timed_out & 1))
		error = "the health check's process did not start";
	if (hc.timed_out & 1) {
		char head[256];
		int n = r->len ? snprintf(head, sizeof head, "Health check exceeded timeout (%s): ", hc.timeout_text)
			       : snprintf(head, sizeof head, "Health check exceeded timeout (%s)", hc.timeout_text);
		size_t hl = (size_t)n < sizeof head ? (size_t)n : sizeof head - 1;
		size_t keep = r->len + hl > HEALTH_OUTPUT_MAX ? HEALTH_OUTPUT_MAX - hl : r->len;
		memmove(r->output + hl, r->output, keep);
		memcpy(r->output, head, hl);
		r->len = hl + keep;
		r->exit_code = -1;
	} else if (error != NULL) {
		int n = snprintf(r->output, HEALTH_OUTPUT_MAX,
				 "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown",
				 error);
		r->len = n < 0 ? 0 : (size_t)n < HEALTH_OUTPUT_MAX ? (size_t)n : HEALTH_OUTPUT_MAX - 1;
		r->exit_code = -1;
	} else {
		r->exit_code = exit_status_code(hc.probe_status);
		if (hc.timed_out & 2) {
			memcpy(r->output + r->len, "...", 3);
			r->len += 3;
		}
	}
	close_fd(&hc.out_fd);
	close_fd(&hc.msg_fd);
	hc.helper_pid = hc.probe_pid = 0;
	if (hc.paused)
		return;  /* Docker drops a result that comes after its monitor stopped */
	health_result(r);
	hc.next_ms = mono_ms() + health_interval();
}

/* A probe ended when its process was reaped, or its helper failed before starting it. */
static void health_check_done(void)
{
	if (hc.helper_pid == 0)
		return;
	health_read_messages();
	if (hc.probe_done || (hc.helper_done && hc.probe_pid == 0))
		health_finish_probe();
}

static void health_reaped(pid_t pid, int status)
{
	if (hc.helper_pid == 0)
		return;
	if (pid == hc.helper_pid) {
		hc.helper_done = 1;
	} else if (pid == hc.probe_pid) {
		hc.probe_done = 1;
		hc.probe_status = status;
	} else {
		int i = hc.nreaped < 8 ? hc.nreaped++ : (memmove(hc.reaped_pids, hc.reaped_pids + 1, 7 * sizeof(pid_t)),
							memmove(hc.reaped_status, hc.reaped_status + 1, 7 * sizeof(int)), 7);
		hc.reaped_pids[i] = pid;
		hc.reaped_status[i] = status;
	}
}

static void health_start_probe(void)
{
	if (!hc.cgroups_found)
		find_cgroups();
	memset(&hc.current, 0, sizeof hc.current);
	hc.current.output = probe_output;
	hc.current.start = now();
	hc.current.start_ms = mono_ms();
	hc.msg_len = 0;
	hc.msg[0] = '\0';  /* the last check's messages must not be read as this one's */
	hc.timed_out = 0;
	hc.probe_done = hc.helper_done = 0;
	hc.nreaped = 0;
	if (hc.error != NULL) {
		struct probe_result *r = &hc.current;
		r->end = now();
		r->exit_code = -1;
		r->len = strlen(hc.error) < HEALTH_OUTPUT_MAX ? strlen(hc.error) : HEALTH_OUTPUT_MAX;
		memcpy(r->output, hc.error, r->len);
		health_result(r);
		hc.next_ms = mono_ms() + health_interval();
		return;
	}
	int out_pipe[2], msg_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) != 0)
		return;
	if (pipe2(msg_pipe, O_CLOEXEC) != 0) {
		close(out_pipe[0]);
		close(out_pipe[1]);
		return;
	}
	pid_t helper = fork();
	if (helper == 0)
		probe_helper(out_pipe[1], msg_pipe[1]);
	close(out_pipe[1]);
	close(msg_pipe[1]);
	if (helper < 0) {
		close(out_pipe[0]);
		close(msg_pipe[0]);
		hc.next_ms = mono_ms() + health_interval();
		return;
	}
	hc.helper_pid = helper;
	hc.probe_pid = 0;
	hc.out_fd = out_pipe[0];
	hc.msg_fd = msg_pipe[0];
	set_flags(hc.out_fd, 1);
	set_flags(hc.msg_fd, 1);
	hc.deadline_ms = mono_ms() + hc.timeout_ms;
	hc.next_ms = -1;
}


/* The poll timeout the health timer needs, in ms (-1: none). */
static int health_poll_timeout(void)
{
	if (!hc.on || hc.paused)
		return -1;
	long long due = hc.helper_pid ? hc.deadline_ms : hc.next_ms;
	if (due < 0)
		return -1;
	long long left = due - mono_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Called every time round the loop: start a probe that is due, end one that took too long. */
static void health_tick(void)
{
	if (!hc.on || container_exited)
		return;
	health_check_done();
	long long t = mono_ms();
	if (hc.helper_pid) {
		if (t >= hc.deadline_ms && (hc.timed_out & 1)) {
			/* killed and still not reaped (frozen, or in uninterruptible sleep):
			 * the result is the timeout's; a late reap is an orphan's */
			hc.probe_done = 1;
			health_finish_probe();
		} else if (t >= hc.deadline_ms) {
			hc.timed_out |= 1;
			/* only processes not reaped yet: a reaped pid may be anyone's by now */
			if (hc.probe_pid && !hc.probe_done)
				kill(hc.probe_pid, SIGKILL);
			if (!hc.helper_done)
				kill(hc.helper_pid, SIGKILL);
			if (hc.probe_pid == 0)
				hc.probe_done = 1;  /* never started: nothing to wait for */
			hc.deadline_ms = t + KILLED_WAIT_MS;
		}
		return;
	}
	if (!hc.paused && hc.next_ms >= 0 && t >= hc.next_ms)
		health_start_probe();
}

static void health_ctl(const char *what)
{
	if (!hc.on)
		return;
	if (strcmp(what, "pause") == 0 && !hc.paused) {
		/* Docker stops the probes of a paused container and calls it unhealthy */
		hc.paused = 1;
		hc.status = "unhealthy";
		health_write_state();
	} else if (strcmp(what, "resume") == 0 && hc.paused) {
		hc.paused = 0;
		if (hc.helper_pid == 0)
			hc.next_ms = mono_ms() + health_interval();
	}
}

static void health_begin(void)
{
	if (hc.probe_path == NULL)
		return;
	hc.on = 1;
	clock_gettime(CLOCK_MONOTONIC, &hc.started);
	if (health_load() != 0)
		hc.interval_ms = hc.interval_ms ? hc.interval_ms : 30000;
	health_write_state();
	hc.next_ms = mono_ms() + health_interval();
}

static void health_end(void)
{
	if (hc.helper_pid) {
		if (hc.probe_pid && !hc.probe_done)
			kill(hc.probe_pid, SIGKILL);
		if (!hc.helper_done)
			kill(hc.helper_pid, SIGKILL);
	}
}

/* ---------------------------------------------------------------- the end */


static void reap(void)
{
	struct signalfd_siginfo info;
	while (signal_fd >= 0 && read(signal_fd, &info, sizeof info) > 0)
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		if (pid == container_pid && !container_exited) {
			container_exited = 1;
			container_status = status;
			finished_at = now();
		} else if (pid != container_pid) {
			health_reaped(pid, status);
		}
	}
}

static void write_exit_file(void)
{
	if (opt.exit_path == NULL)
		return;
	long long kills = read_oom_kills();
	int oom = kills >= 0 && oom_kills_at_start >= 0 && kills > oom_kills_at_start;
	char when[64];
	format_time(when, sizeof when, &finished_at, 0);
	text_len = 0;
	text_printf("{\"exitCode\": %d, \"signal\": %d, \"oomKilled\": %s, \"finishedAt\": \"%s\"}\n",
		    exit_status_code(container_status),
		    WIFSIGNALED(container_status) ? WTERMSIG(container_status) : 0,
		    oom ? "true" : "false", when);
	write_file_atomically(opt.exit_path);
}

/* Give clients what they have not taken yet, for a bounded time, then close them. */
static void close_clients(void)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd fds[MAX_CLIENTS];
		int n = 0;
		for (int i = 0; i < nclients; i++)
			if (clients[i].fd >= 0 && clients[i].off < clients[i].len)
				fds[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLOUT};
		long long left = FLUSH_CLIENTS_MS - ms_since(&start);
		if (n == 0 || left <= 0 || poll(fds, (nfds_t)n, (int)left) <= 0)
			break;
		for (int i = 0; i < nclients; i++)
			if (clients[i].fd >= 0 && clients[i].off < clients[i].len)
				client_flush(&clients[i]);
	}
	for (int i = 0; i < nclients; i++) {
		if (clients[i].fd >= 0)
			shutdown(clients[i].fd, SHUT_RDWR);
		clients[i].reading = 0;
		client_drop(&clients[i]);
	}
	nclients = 0;
}

static void run_exit_command(void)
{
	if (opt.exit_argc == 0)
		return;
	pid_t child = fork();
	if (child < 0)
		return;
	if (child == 0) {
		reset_child();
		setsid();
		stdio_to_dev_null();
		execvp(opt.exit_argv[0], opt.exit_argv);
		_exit(127);
	}
	for (;;) {  /* reap orphans too, until the command itself is done */
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid == child || (pid < 0 && errno != EINTR))
			return;
	}
}

static void finish(void)
{
	/* a client that connected before the end (the engine attaches before start) gets
	 * the output even when the init ended before the loop first polled */
	accept_clients();
	drain(&out);
	drain(&err);
	log_flush();
	write_exit_file();
	close_clients();
	close_fd(&listen_fd);
	if (opt.attach_path)
		unlink(opt.attach_path);
	if (opt.ctl_path)
		unlink(opt.ctl_path);
	close_fd(&ctl_fd);
	close_fd(&in_fd);
	close_fd(&lg.fd);
	health_end();
	run_exit_command();
	exit(0);
}

/* ---------------------------------------------------------------- the loop */

static void serve(void)
{
	enum { P_SIGNAL, P_OUT, P_ERR, P_STDIN, P_LISTEN, P_CTL, P_HEALTH_OUT, P_HEALTH_MSG, P_CLIENTS };
	struct pollfd fds[P_CLIENTS + MAX_CLIENTS];
	reap();  /* the init may have ended before the loop began */
	while (!container_exited) {
		int tty_in = opt.tty && in_fd >= 0 && in_fd == out.fd;
		fds[P_SIGNAL] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
		fds[P_OUT] = (struct pollfd){.fd = out.fd, .events = POLLIN | (tty_in && in_len ? POLLOUT : 0)};
		fds[P_ERR] = (struct pollfd){.fd = err.fd, .events = POLLIN};
		fds[P_STDIN] = (struct pollfd){.fd = !tty_in && in_len ? in_fd : -1, .events = POLLOUT};
		fds[P_LISTEN] = (struct pollfd){.fd = nclients < MAX_CLIENTS ? listen_fd : -1, .events = POLLIN};
		fds[P_CTL] = (struct pollfd){.fd = ctl_fd, .events = POLLIN};
		fds[P_HEALTH_OUT] = (struct pollfd){.fd = hc.out_fd, .events = POLLIN};
		fds[P_HEALTH_MSG] = (struct pollfd){.fd = hc.msg_fd, .events = POLLIN};
		for (int i = 0; i < nclients; i++) {
			struct client *c = &clients[i];
			short events = (short)((c->reading && in_len == 0 ? POLLIN : 0) | (c->off < c->len ? POLLOUT : 0));
			fds[P_CLIENTS + i] = (struct pollfd){.fd = c->fd, .events = events};
		}
		int n = nclients;
		if (poll(fds, (nfds_t)(P_CLIENTS + n), health_poll_timeout()) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[P_SIGNAL].revents)
			reap();
		/* new clients first: one that connected before the output came gets all of it */
		if (fds[P_LISTEN].revents)
			accept_clients();
		if (fds[P_OUT].revents & (POLLIN | POLLHUP | POLLERR))
			stream_read(&out);
		if (fds[P_ERR].revents & (POLLIN | POLLHUP | POLLERR))
			stream_read(&err);
		if ((fds[P_STDIN].revents | (tty_in ? fds[P_OUT].revents & POLLOUT : 0)) && in_len)
			stdin_write();
		if (fds[P_STDIN].revents & (POLLERR | POLLHUP))
			stdin_close();
		if (fds[P_CTL].revents)
			ctl_read();
		if (fds[P_HEALTH_OUT].revents && hc.out_fd >= 0)
			health_read_output();
		if (fds[P_HEALTH_MSG].revents)
			health_read_messages();
		health_tick();
		for (int i = 0; i < n; i++) {
			struct client *c = &clients[i];
			short revents = fds[P_CLIENTS + i].revents;
			if (c->fd < 0 || revents == 0)
				continue;
			if (revents & POLLOUT)
				client_flush(c);
			if (c->fd >= 0 && (revents & POLLIN) && in_len == 0)
				client_read(c);
			else if (c->fd >= 0 && (revents & (POLLHUP | POLLERR)) && !(revents & POLLIN))
				client_drop(c);
		}
		clients_sweep();
		log_flush();
	}
	finish();
}

/* ---------------------------------------------------------------- arguments */

static long long parse_number(const char *name, const char *value, long long min, long long max)
{
	char *end;
	errno = 0;
	long long n = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < min || n > max)
		usage_error("%s: %s is not a number from %lld to %lld", name, value, min, max);
	return n;
}

static const char *absolute(const char *name, const char *path)
{
	if (path[0] != '/')
		usage_error("%s: %s is not an absolute path", name, path);
	return path;
}

static int given_fd(const char *name, const char *value)
{
	int fd = (int)parse_number(name, value, 0, INT_MAX);
	if (fcntl(fd, F_GETFD) < 0)
		usage_error("%s: descriptor %d is not open", name, fd);
	return fd;
}

static const char usage[] =
	"usage: dockyard-monitor [OPTIONS] -- RUNTIME CREATE-ARGS...\n"
	"       dockyard-monitor [OPTIONS] --adopt PID\n"
	"options: --id ID --sync-fd N --pid-file PATH --monitor-pid-file PATH --tty --stdin\n"
	"         --stdin-once --log-driver json-file|none --log-path PATH --log-max-size BYTES\n"
	"         --log-max-file N --attach-socket PATH --attach-fd N --ctl-fifo PATH --exit-file PATH\n"
	"         --exit-command ARG (repeated) --stdin-fd N --stdout-fd N --stderr-fd N --pty-fd N\n"
	"         --health-probe PATH --health-state PATH --health-command ARG (repeated)\n"
	"       dockyard-monitor [--sync-fd N] --delay-ms N -- COMMAND...\n"
	"See docs/monitor.md.\n";

static void parse_args(int argc, char **argv)
{
	enum {
		OPT_ID = 256, OPT_SYNC, OPT_PIDFILE, OPT_MONPID, OPT_TTY, OPT_STDIN, OPT_ONCE, OPT_DRIVER, OPT_LOGPATH,
		OPT_MAXSIZE, OPT_MAXFILE, OPT_ATTACH, OPT_CTL, OPT_EXIT, OPT_EXITCMD, OPT_ADOPT, OPT_STDINFD, OPT_STDOUTFD,
		OPT_STDERRFD, OPT_PTYFD, OPT_ATTACHFD, OPT_DELAY, OPT_HPROBE, OPT_HSTATE, OPT_HCMD, OPT_HELP,
	};
	static const struct option longopts[] = {
		{"id", required_argument, NULL, OPT_ID},
		{"sync-fd", required_argument, NULL, OPT_SYNC},
		{"pid-file", required_argument, NULL, OPT_PIDFILE},
		{"monitor-pid-file", required_argument, NULL, OPT_MONPID},
		{"tty", no_argument, NULL, OPT_TTY},
		{"stdin", no_argument, NULL, OPT_STDIN},
		{"stdin-once", no_argument, NULL, OPT_ONCE},
		{"log-driver", required_argument, NULL, OPT_DRIVER},
		{"log-path", required_argument, NULL, OPT_LOGPATH},
		{"log-max-size", required_argument, NULL, OPT_MAXSIZE},
		{"log-max-file", required_argument, NULL, OPT_MAXFILE},
		{"attach-socket", required_argument, NULL, OPT_ATTACH},
		{"attach-fd", required_argument, NULL, OPT_ATTACHFD},
		{"ctl-fifo", required_argument, NULL, OPT_CTL},
		{"exit-file", required_argument, NULL, OPT_EXIT},
		{"exit-command", required_argument, NULL, OPT_EXITCMD},
		{"adopt", required_argument, NULL, OPT_ADOPT},
		{"stdin-fd", required_argument, NULL, OPT_STDINFD},
		{"stdout-fd", required_argument, NULL, OPT_STDOUTFD},
		{"stderr-fd", required_argument, NULL, OPT_STDERRFD},
		{"pty-fd", required_argument, NULL, OPT_PTYFD},
		{"delay-ms", required_argument, NULL, OPT_DELAY},
		{"health-probe", required_argument, NULL, OPT_HPROBE},
		{"health-state", required_argument, NULL, OPT_HSTATE},
		{"health-command", required_argument, NULL, OPT_HCMD},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	opt.exit_argv = calloc((size_t)argc + 1, sizeof(char *));
	hc.command = calloc((size_t)argc + 2, sizeof(char *));  /* + the status, + NULL */
	if (opt.exit_argv == NULL || hc.command == NULL)
		exit(1);
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ID: opt.id = optarg; break;
		case OPT_SYNC:
			opt.sync_fd = (int)parse_number("--sync-fd", optarg, 0, INT_MAX);
			if (fcntl(opt.sync_fd, F_GETFD) < 0) {
				opt.sync_fd = -1;
				usage_error("--sync-fd: descriptor %s is not open", optarg);
			}
			break;
		case OPT_PIDFILE: opt.pid_file = absolute("--pid-file", optarg); break;
		case OPT_MONPID: opt.monitor_pid_file = absolute("--monitor-pid-file", optarg); break;
		case OPT_TTY: opt.tty = 1; break;
		case OPT_STDIN: opt.keep_stdin = 1; break;
		case OPT_ONCE: opt.stdin_once = 1; break;
		case OPT_DRIVER:
			if (strcmp(optarg, "none") == 0)
				opt.log_none = 1;
			else if (strcmp(optarg, "json-file") == 0)
				opt.log_none = 0;
			else
				usage_error("--log-driver: %s is not json-file or none", optarg);
			break;
		case OPT_LOGPATH: opt.log_path = absolute("--log-path", optarg); break;
		case OPT_MAXSIZE: opt.log_max_size = parse_number("--log-max-size", optarg, 0, LLONG_MAX); break;
		case OPT_MAXFILE: opt.log_max_file = (long)parse_number("--log-max-file", optarg, 1, 100000); break;
		case OPT_ATTACH: opt.attach_path = absolute("--attach-socket", optarg); break;
		case OPT_ATTACHFD: opt.attach_fd = given_fd("--attach-fd", optarg); break;
		case OPT_CTL: opt.ctl_path = absolute("--ctl-fifo", optarg); break;
		case OPT_EXIT: opt.exit_path = absolute("--exit-file", optarg); break;
		case OPT_EXITCMD: opt.exit_argv[opt.exit_argc++] = optarg; break;
		case OPT_ADOPT: opt.adopt_pid = (pid_t)parse_number("--adopt", optarg, 1, INT_MAX); break;
		case OPT_STDINFD: opt.stdin_fd = given_fd("--stdin-fd", optarg); break;
		case OPT_STDOUTFD: opt.stdout_fd = given_fd("--stdout-fd", optarg); break;
		case OPT_STDERRFD: opt.stderr_fd = given_fd("--stderr-fd", optarg); break;
		case OPT_PTYFD: opt.pty_fd = given_fd("--pty-fd", optarg); break;
		case OPT_HPROBE: hc.probe_path = absolute("--health-probe", optarg); break;
		case OPT_HSTATE: hc.state_path = absolute("--health-state", optarg); break;
		case OPT_HCMD: hc.command[hc.command_argc++] = optarg; break;
		case OPT_DELAY: opt.delay_ms = parse_number("--delay-ms", optarg, 0, 24LL * 3600 * 1000); break;
		case OPT_HELP:
			write_all(1, usage, sizeof usage - 1);
			exit(0);
		default:
			usage_error("unknown option or missing value: %s (--help lists them)", argv[optind - 1]);
		}
	}
	opt.runtime_argv = argv + optind;
	int spawn = optind < argc;
	if (opt.delay_ms >= 0) {
		if (!spawn || opt.adopt_pid > 0)
			usage_error("--delay-ms needs a command after -- (and no --adopt)");
		return;
	}
	if (spawn == (opt.adopt_pid > 0))
		usage_error(spawn ? "--adopt takes no runtime command" : "give a runtime command after -- or --adopt PID");
	if (!opt.log_none && opt.log_path == NULL)
		usage_error("--log-path is required with the json-file log driver");
	if (spawn && opt.pid_file == NULL)
		usage_error("--pid-file is required with a runtime command");
	if (spawn && (opt.stdin_fd >= 0 || opt.stdout_fd >= 0 || opt.stderr_fd >= 0 || opt.pty_fd >= 0))
		usage_error("--stdin-fd, --stdout-fd, --stderr-fd and --pty-fd belong to --adopt");
	if (!spawn && opt.tty && opt.pty_fd < 0)
		usage_error("--adopt with --tty needs --pty-fd");
	if (!spawn && !opt.tty && opt.pty_fd >= 0)
		usage_error("--pty-fd needs --tty");
	if (!spawn && opt.keep_stdin && !opt.tty && opt.stdin_fd < 0)
		usage_error("--adopt with --stdin needs --stdin-fd");
	if (opt.attach_fd >= 0) {
		int listening = 0;
		socklen_t len = sizeof listening;
		if (getsockopt(opt.attach_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
			usage_error("--attach-fd: descriptor %d is not a listening socket", opt.attach_fd);
	}
}

/* ---------------------------------------------------------------- main */

static void write_monitor_pid(void)
{
	if (opt.monitor_pid_file == NULL)
		return;
	text_len = 0;
	text_printf("%d", (int)getpid());
	if (write_file_atomically(opt.monitor_pid_file) != 0)
		fail("cannot write %s: %s", opt.monitor_pid_file, strerror(errno));
}

/*
 * Delay mode: a timer that costs no more than a sleeping process. The engine
 * uses it for a restart policy's backoff: sleep, then run the command that
 * restarts the container. SIGTERM (the engine cancelling) ends it before.
 */
__attribute__((noreturn)) static void run_delayed(void)
{
	pid_t child = fork();
	if (child < 0)
		fail("cannot fork: %s", strerror(errno));
	if (child > 0)
		_exit(0);  /* the engine reaps this parent at once, as in spawn mode */
	setsid();
	stdio_to_dev_null();
	reset_child();  /* whatever the engine ignored or blocked, the command gets defaults */
	signal(SIGTERM, SIG_DFL);
	text_len = 0;
	text_printf("{\"pid\": %d}\n", (int)getpid());
	send_sync();
	struct timespec left = {.tv_sec = (time_t)(opt.delay_ms / 1000),
				.tv_nsec = (long)(opt.delay_ms % 1000) * 1000000L};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	execvp(opt.runtime_argv[0], opt.runtime_argv);
	_exit(127);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	close_unnamed_fds();
	if (opt.delay_ms >= 0) {
		if (opt.sync_fd >= 0)
			set_flags(opt.sync_fd, 0);
		if (chdir("/") != 0) {
			/* only to pin no directory */
		}
		run_delayed();
	}
	int named[] = {opt.sync_fd, opt.stdin_fd, opt.stdout_fd, opt.stderr_fd, opt.pty_fd, opt.attach_fd};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (named[i] >= 0)
			set_flags(named[i], i > 0);
	umask(022);
	setup_signals();

	if (opt.adopt_pid == 0) {
		/* the engine reaps this parent at once and never holds the monitor as a child */
		pid_t child = fork();
		if (child < 0)
			fail("cannot fork: %s", strerror(errno));
		if (child > 0)
			_exit(0);
	}
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	lower_oom_score();
	stdio_to_dev_null();
	write_monitor_pid();  /* early: while the runtime creates, the engine can find us */

	if (!opt.log_none && log_open(0) != 0)
		fail("cannot open the log %s: %s", opt.log_path, strerror(errno));
	if (opt.attach_fd >= 0) {
		/* listening already, bound by the engine, which may have connected before the
		 * container's process existed: that client is accepted before any output is read */
		listen_fd = opt.attach_fd;
	} else if (opt.attach_path) {
		listen_fd = listen_unix(opt.attach_path, 0600);
		if (listen_fd < 0)
			fail("cannot listen on %s: %s", opt.attach_path, strerror(errno));
	}
	if (opt.ctl_path) {
		if ((unlink(opt.ctl_path) != 0 && errno != ENOENT) || mkfifo(opt.ctl_path, 0600) != 0)
			fail("cannot make the FIFO %s: %s", opt.ctl_path, strerror(errno));
		/* read-write: the FIFO never reports end-of-file when a writer leaves */
		ctl_fd = open(opt.ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (ctl_fd < 0)
			fail("cannot open the FIFO %s: %s", opt.ctl_path, strerror(errno));
	}
	signal_fd = signalfd(-1, &blocked, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd < 0)
		fail("cannot make a signalfd: %s", strerror(errno));

	if (opt.adopt_pid == 0)
		create_container();
	else
		adopt_container();

	stdin_open = in_fd >= 0;
	if (in_fd >= 0)
		set_flags(in_fd, 1);
	if (out.fd >= 0)
		set_flags(out.fd, 1);
	if (err.fd >= 0)
		set_flags(err.fd, 1);
	find_oom_file(container_pid);
	if (chdir("/") != 0) {
		/* only to pin no directory; staying is harmless */
	}
	text_len = 0;
	text_printf("{\"pid\": %d}\n", (int)container_pid);
	send_sync();
	health_begin();
	serve();
	return 0;
}
