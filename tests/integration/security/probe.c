/*
 * probe: the security tests' hands inside a container, for what busybox has
 * no applet for. Built at test time with `gcc -static` into the test's rootfs.
 *
 *   probe OP ARG... [-- OP ARG...]...
 *
 * Each OP prints one line: "<op> ok <result>" or "<op> errno <n>".
 *
 *   sys NAME|NUMBER [ARG...]   a raw syscall; ARG is a number (0x.. too) or s:STRING
 *   open PATH r|w|rw|dir       open(2) read-only, write-only (no O_TRUNC), read-write, a dir
 *   readlink PATH
 *   ptrace_attach PID          PTRACE_ATTACH, then detach if it worked
 *   dropcaps                   give up every capability (bounding, ambient, all sets)
 *   getcwd
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
	const char *name;
	long nr;
} syscalls[] = {
	{"getpid", SYS_getpid},
	{"getppid", SYS_getppid},
	{"umask", SYS_umask},
	{"personality", SYS_personality},
	{"socket", SYS_socket},
	{"mkdirat", SYS_mkdirat},
	{"keyctl", SYS_keyctl},
	{"add_key", SYS_add_key},
	{"request_key", SYS_request_key},
	{"init_module", SYS_init_module},
	{"finit_module", SYS_finit_module},
	{"delete_module", SYS_delete_module},
	{"ptrace", SYS_ptrace},
	{"unshare", SYS_unshare},
	{"mount", SYS_mount},
	{"umount2", SYS_umount2},
	{"setns", SYS_setns},
	{"kexec_load", SYS_kexec_load},
	{"reboot", SYS_reboot},
	{"swapon", SYS_swapon},
	{"bpf", SYS_bpf},
	{"clone3", SYS_clone3},
	{"dup3", SYS_dup3},
	{"open_by_handle_at", SYS_open_by_handle_at},
	{"syslog", SYS_syslog},
	{"sethostname", SYS_sethostname},
};

static void report(const char *op, long result)
{
	if (result == -1)
		printf("%s errno %d\n", op, errno);
	else
		printf("%s ok %ld\n", op, result);
	fflush(stdout);
}

static long number(const char *text)
{
	if (strncmp(text, "s:", 2) == 0)
		return (long)(text + 2);
	return (long)strtoull(text, NULL, 0);
}

static long lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (strcmp(syscalls[i].name, name) == 0)
			return syscalls[i].nr;
	if (name[0] >= '0' && name[0] <= '9')
		return strtol(name, NULL, 0);
	fprintf(stderr, "probe: unknown syscall %s\n", name);
	exit(2);
}

static long op_sys(int argc, char **argv)
{
	long a[6] = {0};
	for (int i = 1; i < argc && i <= 6; i++)
		a[i - 1] = number(argv[i]);
	return syscall(lookup(argv[0]), a[0], a[1], a[2], a[3], a[4], a[5]);
}

static long op_open(int argc, char **argv)
{
	if (argc < 2)
		return errno = EINVAL, -1;
	int flags = O_RDONLY;
	if (strcmp(argv[1], "w") == 0)
		flags = O_WRONLY;
	else if (strcmp(argv[1], "rw") == 0)
		flags = O_RDWR;
	else if (strcmp(argv[1], "dir") == 0)
		flags = O_RDONLY | O_DIRECTORY;
	int fd = open(argv[0], flags | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static long op_readlink(char **argv)
{
	char target[4096];
	ssize_t n = readlink(argv[0], target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = 0;
		printf("# %s -> %s\n", argv[0], target);
	}
	return n < 0 ? -1 : 0;
}

static long op_ptrace_attach(char **argv)
{
	pid_t pid = (pid_t)strtol(argv[0], NULL, 0);
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) == -1)
		return -1;
	waitpid(pid, NULL, __WALL);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}

static long op_dropcaps(void)
{
	for (int cap = 0; cap <= 63; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &header, data);
}

static long op_getcwd(void)
{
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	printf("# cwd %s\n", cwd);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;
	while (i < argc) {
		int end = i;
		while (end < argc && strcmp(argv[end], "--") != 0)
			end++;
		char *op = argv[i];
		int n = end - i - 1;
		char **args = argv + i + 1;
		long result;
		errno = 0;
		if (strcmp(op, "sys") == 0 && n >= 1)
			result = op_sys(n, args);
		else if (strcmp(op, "open") == 0 && n >= 2)
			result = op_open(n, args);
		else if (strcmp(op, "readlink") == 0 && n >= 1)
			result = op_readlink(args);
		else if (strcmp(op, "ptrace_attach") == 0 && n >= 1)
			result = op_ptrace_attach(args);
		else if (strcmp(op, "dropcaps") == 0)
			result = op_dropcaps();
		else if (strcmp(op, "getcwd") == 0)
			result = op_getcwd();
		else {
			fprintf(stderr, "probe: bad operation %s\n", op);
			return 2;
		}
		char label[256];
		snprintf(label, sizeof(label), "%s%s%s", op, n >= 1 && strcmp(op, "sys") == 0 ? ":" : "",
			 n >= 1 && strcmp(op, "sys") == 0 ? args[0] : "");
		report(label, result);
		i = end + 1;
	}
	return 0;
}
