/*
 * dockyard-resolver: the embedded DNS server of Dockyard's user-defined networks.
 *
 * Containers on a user-defined network find each other by name, alias and
 * short id at 127.0.0.11, as Docker's do. One resolver serves every such
 * container of one engine (a store and its run root): the engine starts it
 * with the first container that needs it, and it exits when a reload leaves
 * it nothing to serve. docs/network.md ("DNS between containers") is its
 * contract with the engine.
 *
 * Its sockets live in the containers' network namespaces (127.0.0.11:53,
 * UDP and TCP, made there by entering the namespace's file for the time of
 * socket() and bind()), but the process stays in the host's namespace: so no
 * rule is needed in the container, and forwarded queries reach the host's
 * resolvers, loopback ones included, as the host itself does.
 *
 * What it serves is a text file the engine rewrites atomically under a lock
 * (DIR/records); a client of the control socket asks for a reload:
 *
 *     -> "reload\n"
 *     <- "ok N\n"              N containers served
 *        "fail ID MESSAGE\n"   for each container that could not be served
 *        "exit PID\n"          when N is 0: the control socket is gone, the process ends
 *
 * One process, one thread, one epoll loop; memory is allocated per query
 * being forwarded and per TCP client only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_ADDRESS 0x7f00000bu  /* 127.0.0.11, Docker's */
#define DNS_PORT 53
#define TTL 600                     /* Docker's, for every local answer */
#define MAX_UPSTREAMS 3             /* Docker tries at most three servers */
#define UPSTREAM_TIMEOUT_MS 4000    /* per server, as Docker's */
#define MAX_FORWARDS 1024           /* queries in flight; more are REFUSED (Docker's limit) */
#define MAX_CONNS 256               /* TCP clients at once, all containers together */
#define CONN_IDLE_MS 10000          /* a TCP client silent this long is closed */
#define UDP_DEFAULT 512             /* a UDP answer's size without EDNS0 */
#define MSG_MAX 65535
#define MAX_ADDRESSES 4096          /* answers gathered for one name */
#define LOG_MAX (1 << 20)           /* the log is emptied at start when larger */

enum { T_A = 1, T_PTR = 12, T_MX = 15, T_AAAA = 28, T_OPT = 41 };
enum { RC_OK = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NOTIMP = 4, RC_REFUSED = 5 };

/* ---------------------------------------------------------------- state */

enum kind { W_CTL, W_UDP, W_LISTEN, W_CONN, W_FORWARD };

struct watch {
	enum kind kind;
	void *owner;
};

struct network {
	const char *id, *name;
};

struct entry {                  /* one container on one network */
	int net;
	struct in_addr addr;
	const char **names;     /* names[0] is the container's name (PTR answers) */
	int nnames;
};

struct upstream {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct container {
	char *id, *netns;
	dev_t dev;
	ino_t ino;
	int udp, tcp;
	struct watch wudp, wtcp;
	int *nets, nnets;       /* indices into db.nets, in the order it joined them */
	struct upstream up[MAX_UPSTREAMS];
	int nup;
	int forward;            /* 0: no network of it reaches out (all --internal) */
	int ndots;              /* the user set ndots: single labels not ours are not forwarded */
	int seen, dead;
	struct container *next;
};

struct conn {                   /* a TCP client in a container */
	struct container *c;
	int fd, dead, eof, waiting;
	uint32_t events;
	struct watch w;
	uint8_t *in;
	size_t in_have, in_cap;
	uint8_t *out;
	size_t out_len, out_off;
	long long deadline;
	struct conn *next;
};

struct forward {                /* a query on its way to an upstream server */
	struct container *c;
	struct conn *conn;      /* the TCP client to answer, or NULL: UDP to peer */
	struct sockaddr_in peer;
	uint16_t client_id, up_id;
	int server, fd, dead, sent;
	struct watch w;
	uint8_t *query;
	size_t qlen;
	uint8_t *in;
	size_t in_have;
	long long deadline;
	struct forward *next;
};

static struct {
	char *text;             /* the records file; names point into it */
	struct network *nets;
	int nnets;
	struct entry *entries;
	int nentries;
} db;

static struct container *containers;
static struct conn *conns;
static struct forward *forwards;
static int nconns, nforwards;
static int epfd = -1, host_ns = -1, ctl_fd = -1;
static struct watch wctl = { W_CTL, NULL };
static const char *dir;
static uint8_t msgbuf[MSG_MAX + 2];
static uint64_t rng;

/* ---------------------------------------------------------------- small helpers */

static void logf_(const char *fmt, ...)
{
	char line[1024];
	time_t now = time(NULL);
	struct tm tm;
	size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", gmtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	if ((size_t)k > sizeof line - n - 2)
		k = (int)(sizeof line - n - 2);
	n += (size_t)k;
	line[n++] = '\n';
	ssize_t ignored = write(2, line, n);
	(void)ignored;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t random32(void)
{
	/* xorshift64*: answers are shuffled and upstream ids drawn from it */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		logf_("out of memory");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		logf_("out of memory");
		exit(1);
	}
	return p;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void watch_add(int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		logf_("epoll_ctl add: %s", strerror(errno));
}

static void watch_mod(int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* ---------------------------------------------------------------- DNS messages */

struct query {
	uint16_t id, flags, qtype, qclass;
	size_t qend;            /* the end of the question section */
	char name[256];         /* lower case, dotted, no final dot; "" is the root */
	size_t namelen;
	unsigned udp_size;      /* EDNS0's payload size; 0 without EDNS0 */
};

/* The length of a (possibly compressed) name at p, or 0 if it runs out of the message. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t p)
{
	size_t start = p;
	while (p < len) {
		uint8_t l = msg[p];
		if (l == 0)
			return p + 1 - start;
		if ((l & 0xC0) == 0xC0)
			return p + 2 <= len ? p + 2 - start : 0;
		if (l & 0xC0)
			return 0;
		p += 1 + l;
	}
	return 0;
}

/* 0: a query to answer; else the rcode to answer with (-1: too broken to answer at all). */
static int parse_query(const uint8_t *msg, size_t len, struct query *q)
{
	memset(q, 0, sizeof *q);
	if (len < 12)
		return -1;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if (q->flags & 0x8000)
		return -1;      /* an answer: never answer one */
	if ((q->flags >> 11 & 0xF) != 0)
		return RC_NOTIMP;
	if (get16(msg + 4) != 1)
		return RC_FORMERR;
	size_t p = 12, n = 0;
	while (1) {
		if (p >= len)
			return RC_FORMERR;
		uint8_t l = msg[p++];
		if (l == 0)
			break;
		if (l & 0xC0 || p + l > len || n + l + 1 >= sizeof q->name)
			return RC_FORMERR;
		if (n)
			q->name[n++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char ch = (char)msg[p + i];
			q->name[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
		}
		p += l;
	}
	q->name[n] = 0;
	q->namelen = n;
	if (p + 4 > len)
		return RC_FORMERR;
	q->qtype = get16(msg + p);
	q->qclass = get16(msg + p + 2);
	q->qend = p + 4;
	/* EDNS0: an OPT record among the additional ones gives the client's UDP size */
	unsigned skip = get16(msg + 6) + get16(msg + 8), extra = get16(msg + 10);
	p = q->qend;
	for (unsigned i = 0; i < skip + extra; i++) {
		size_t k = skip_name(msg, len, p);
		if (!k || p + k + 10 > len)
			break;
		p += k;
		uint16_t type = get16(msg + p), rdlen = get16(msg + p + 8);
		if (i >= skip && type == T_OPT)
			q->udp_size = get16(msg + p + 2);
		p += 10 + rdlen;
	}
	return 0;
}

/* A reply's header and question; the caller appends answers. */
static size_t reply_start(const uint8_t *query, const struct query *q, uint8_t *out, int rcode)
{
	size_t qlen = q->qend ? q->qend - 12 : 0;
	put16(out, q->id);
	/* QR, RD as asked, RA: as Docker's (miekg/dns SetReply plus RecursionAvailable) */
	put16(out + 2, (uint16_t)(0x8000 | (q->flags & 0x0100) | 0x0080 | (rcode & 0xF)));
	put16(out + 4, q->qend ? 1 : 0);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + 12, query + 12, qlen);
	return 12 + qlen;
}

/* An answer record for the question's name (a pointer to offset 12); 0 if it does not fit. */
static size_t put_answer(uint8_t *out, size_t at, size_t max, uint16_t type, const uint8_t *rdata,
			 uint16_t rdlen)
{
	if (at + 12 + rdlen > max)
		return 0;
	put16(out + at, 0xC00C);
	put16(out + at + 2, type);
	put16(out + at + 4, 1);
	put16(out + at + 6, 0);
	put16(out + at + 8, TTL);
	put16(out + at + 10, rdlen);
	memcpy(out + at + 12, rdata, rdlen);
	put16(out + 6, (uint16_t)(get16(out + 6) + 1));
	return at + 12 + rdlen;
}

/* ---------------------------------------------------------------- the records */

static int name_is(const char *name, size_t len, const char *candidate)
{
	return strlen(candidate) == len && strncasecmp(candidate, name, len) == 0;
}

/* Addresses of `name` on the first of c's networks that has it (only the network
 * `netname` when given); their count. Docker's order: the networks as joined. */
static int lookup(const struct container *c, const char *name, size_t len, const char *netname,
		  struct in_addr *found)
{
	for (int i = 0; i < c->nnets; i++) {
		const struct network *net = &db.nets[c->nets[i]];
		if (netname && strcasecmp(net->name, netname) != 0)
			continue;
		int count = 0;
		for (int e = 0; e < db.nentries && count < MAX_ADDRESSES; e++) {
			const struct entry *en = &db.entries[e];
			if (en->net != c->nets[i])
				continue;
			for (int k = 0; k < en->nnames; k++) {
				if (name_is(name, len, en->names[k])) {
					found[count++] = en->addr;
					break;
				}
			}
		}
		if (count)
			return count;
	}
	return 0;
}

/* Docker's reading of a.b.c: "a.b.c" on any network, then "a.b" on network "c",
 * then "a" on network "b.c". */
static int resolve(const struct container *c, const char *name, size_t len, struct in_addr *found)
{
	int count = lookup(c, name, len, NULL, found);
	for (size_t i = len; !count && i-- > 0;) {
		if (name[i] == '.' && i > 0 && i + 1 < len)
			count = lookup(c, name, i, name + i + 1, found);
	}
	return count;
}

/* "d.c.b.a.in-addr.arpa" -> a.b.c.d; 0 if the name is not that. */
static int reverse_v4(const char *name, struct in_addr *addr)
{
	static const char suffix[] = ".in-addr.arpa";
	size_t len = strlen(name), sl = sizeof suffix - 1;
	if (len <= sl || strcmp(name + len - sl, suffix) != 0)
		return 0;
	unsigned part[4], n = 0;
	const char *p = name, *end = name + len - sl;
	while (p < end && n < 4) {
		unsigned v = 0, digits = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 4)
			v = v * 10 + (unsigned)(*p++ - '0'), digits++;
		if (!digits || v > 255 || (p < end && *p++ != '.'))
			return 0;
		part[n++] = v;
	}
	if (n != 4 || p != end)
		return 0;
	addr->s_addr = htonl(part[3] << 24 | part[2] << 16 | part[1] << 8 | part[0]);
	return 1;
}

/* The PTR answer's rdata ("name.network." as labels) for addr; its length, 0 if none. */
static size_t ptr_for(const struct container *c, struct in_addr addr, uint8_t *rdata, size_t max)
{
	for (int i = 0; i < c->nnets; i++) {
		for (int e = 0; e < db.nentries; e++) {
			const struct entry *en = &db.entries[e];
			if (en->net != c->nets[i] || en->addr.s_addr != addr.s_addr || !en->nnames)
				continue;
			char fqdn[512];
			int k = snprintf(fqdn, sizeof fqdn, "%s.%s", en->names[0],
					 db.nets[en->net].name);
			if (k <= 0 || (size_t)k >= sizeof fqdn || (size_t)k + 2 > max || k > 253)
				return 0;
			size_t n = 0;
			char *save = NULL;
			for (char *label = strtok_r(fqdn, ".", &save); label;
			     label = strtok_r(NULL, ".", &save)) {
				size_t l = strlen(label);
				if (l > 63)
					return 0;
				rdata[n++] = (uint8_t)l;
				memcpy(rdata + n, label, l);
				n += l;
			}
			rdata[n++] = 0;
			return n;
		}
	}
	return 0;
}

/* The local answer to q from container c in out (at most max bytes): its length, or 0
 * when the name is not one of ours (it is then forwarded, as Docker does). */
static size_t answer_locally(const struct container *c, const uint8_t *query, const struct query *q,
			     uint8_t *out, size_t max, int tcp)
{
	static struct in_addr found[MAX_ADDRESSES];
	if (q->qclass != 1 || !q->namelen)
		return 0;
	if (q->qtype == T_PTR) {
		struct in_addr addr;
		uint8_t rdata[260];
		size_t rdlen;
		if (!reverse_v4(q->name, &addr) || !(rdlen = ptr_for(c, addr, rdata, sizeof rdata)))
			return 0;
		size_t at = reply_start(query, q, out, RC_OK);
		size_t end = put_answer(out, at, max, T_PTR, rdata, (uint16_t)rdlen);
		return end ? end : at;
	}
	if (q->qtype != T_A && q->qtype != T_AAAA && q->qtype != T_MX)
		return 0;
	int count = resolve(c, q->name, q->namelen, found);
	if (!count)
		return 0;
	size_t at = reply_start(query, q, out, RC_OK);
	if (q->qtype != T_A)
		return at;      /* a name of ours without IPv6 or MX: an empty NOERROR, not forwarded */
	for (int i = count - 1; i > 0; i--) {   /* round robin, as Docker's shuffle */
		int j = (int)(random32() % (uint32_t)(i + 1));
		struct in_addr t = found[i];
		found[i] = found[j];
		found[j] = t;
	}
	for (int i = 0; i < count; i++) {
		size_t end = put_answer(out, at, max, T_A, (const uint8_t *)&found[i].s_addr, 4);
		if (!end) {
			if (!tcp)
				out[2] |= 0x02;         /* TC: the client asks again over TCP */
			break;
		}
		at = end;
	}
	return at;
}

/* ---------------------------------------------------------------- replies */

static void conn_update(struct conn *k);

static void conn_queue(struct conn *k, const uint8_t *msg, size_t len)
{
	size_t need = k->out_len - k->out_off + len + 2;
	uint8_t *buf = malloc(need);
	if (!buf)
		return;
	memcpy(buf, k->out + k->out_off, k->out_len - k->out_off);
	put16(buf + k->out_len - k->out_off, (uint16_t)len);
	memcpy(buf + k->out_len - k->out_off + 2, msg, len);
	free(k->out);
	k->out = buf;
	k->out_len = need;
	k->out_off = 0;
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			break;
		k->out_off += (size_t)w;
	}
	k->deadline = now_ms() + CONN_IDLE_MS;
	conn_update(k);
}

static void send_reply(struct container *c, struct conn *k, const struct sockaddr_in *peer,
		       const uint8_t *msg, size_t len)
{
	if (k)
		conn_queue(k, msg, len);
	else
		sendto(c->udp, msg, len, MSG_DONTWAIT, (const struct sockaddr *)peer, sizeof *peer);
}

static void reply_rcode(struct container *c, struct conn *k, const struct sockaddr_in *peer,
			const uint8_t *query, const struct query *q, int rcode)
{
	uint8_t out[600];
	struct query copy = *q;
	if (copy.qend > 12 + 512)
		copy.qend = 0;  /* a question too long to echo is left out */
	send_reply(c, k, peer, out, reply_start(query, &copy, out, rcode));
}

/* ---------------------------------------------------------------- forwarding */

static void forward_next(struct forward *f);

static void forward_free(struct forward *f)
{
	if (f->dead)
		return;
	f->dead = 1;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->conn && !f->conn->dead) {
		f->conn->waiting = 0;
		conn_update(f->conn);
	}
	nforwards--;
}

static void forward_done(struct forward *f, uint8_t *msg, size_t len)
{
	struct query q;
	if (msg) {
		put16(msg, f->client_id);
		send_reply(f->c, f->conn, &f->peer, msg, len);
	} else if (parse_query(f->query, f->qlen, &q) == 0) {
		q.id = f->client_id;
		reply_rcode(f->c, f->conn, &f->peer, f->query, &q, RC_SERVFAIL);
	}
	forward_free(f);
}

/* Send the query to the next server in line; SERVFAIL when none is left. */
static void forward_next(struct forward *f)
{
	const struct container *c = f->c;
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	while (f->server < c->nup) {
		const struct upstream *up = &c->up[f->server++];
		int tcp = f->conn != NULL;
		int fd = socket(up->sa.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, (const struct sockaddr *)&up->sa, up->len) < 0 &&
		    errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		f->up_id = (uint16_t)random32();
		put16(f->query, f->up_id);
		f->sent = 0;
		f->in_have = 0;
		if (!tcp) {
			if (send(fd, f->query, f->qlen, MSG_NOSIGNAL) != (ssize_t)f->qlen) {
				close(fd);
				continue;
			}
			f->sent = 1;
		}
		f->fd = fd;
		f->deadline = now_ms() + UPSTREAM_TIMEOUT_MS;
		watch_add(fd, &f->w, tcp ? EPOLLOUT : EPOLLIN);
		return;
	}
	forward_done(f, NULL, 0);
}

static void forward_start(struct container *c, struct conn *k, const struct sockaddr_in *peer,
			  const uint8_t *query, size_t len, const struct query *q)
{
	if (nforwards >= MAX_FORWARDS) {
		reply_rcode(c, k, peer, query, q, RC_REFUSED);
		return;
	}
	struct forward *f = xcalloc(1, sizeof *f);
	f->c = c;
	f->conn = k;
	if (peer)
		f->peer = *peer;
	f->client_id = q->id;
	f->fd = -1;
	f->w.kind = W_FORWARD;
	f->w.owner = f;
	f->query = malloc(len);
	if (!f->query) {
		free(f);
		return;
	}
	memcpy(f->query, query, len);
	f->qlen = len;
	f->next = forwards;
	forwards = f;
	nforwards++;
	if (k) {
		k->waiting = 1;  /* one query at a time per TCP client */
		conn_update(k);
	}
	forward_next(f);
}

/* An upstream's answer is passed on unless it is SERVFAIL or REFUSED: then the next
 * server is asked (Docker's rule); a truncated one is passed on for the client to
 * ask again over TCP. */
static void forward_answer(struct forward *f, uint8_t *msg, size_t len)
{
	if (len < 12 || get16(msg) != f->up_id || !(msg[2] & 0x80))
		return;         /* not the answer: keep waiting */
	int rcode = msg[3] & 0xF;
	if (rcode == RC_SERVFAIL || rcode == RC_REFUSED) {
		forward_next(f);
		return;
	}
	forward_done(f, msg, len);
}

static void on_forward(struct forward *f, uint32_t events)
{
	if (!f->conn) {
		ssize_t n = recv(f->fd, msgbuf, sizeof msgbuf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				forward_next(f);        /* refused: nothing listens there */
			return;
		}
		forward_answer(f, msgbuf, (size_t)n);
		return;
	}
	if (!f->sent) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			forward_next(f);
			return;
		}
		uint8_t *framed = malloc(f->qlen + 2);
		if (!framed) {
			forward_next(f);
			return;
		}
		put16(framed, (uint16_t)f->qlen);
		memcpy(framed + 2, f->query, f->qlen);
		ssize_t w = send(f->fd, framed, f->qlen + 2, MSG_NOSIGNAL);
		free(framed);
		if (w != (ssize_t)(f->qlen + 2)) {
			forward_next(f);
			return;
		}
		f->sent = 1;
		watch_mod(f->fd, &f->w, EPOLLIN);
		return;
	}
	if (!f->in) {
		f->in = malloc(MSG_MAX + 2);
		if (!f->in) {
			forward_next(f);
			return;
		}
	}
	ssize_t n = recv(f->fd, f->in + f->in_have, MSG_MAX + 2 - f->in_have, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		forward_next(f);
		return;
	}
	f->in_have += (size_t)n;
	if (f->in_have >= 2 && f->in_have >= 2 + (size_t)get16(f->in))
		forward_answer(f, f->in + 2, get16(f->in));
}

/* ---------------------------------------------------------------- queries */

static void handle_query(struct container *c, struct conn *k, const struct sockaddr_in *peer,
			 const uint8_t *msg, size_t len)
{
	static uint8_t out[MSG_MAX];
	struct query q;
	int rc = parse_query(msg, len, &q);
	if (rc < 0)
		return;
	if (rc > 0) {
		if (rc == RC_FORMERR)
			q.qend = 0;
		reply_rcode(c, k, peer, msg, &q, rc);
		return;
	}
	size_t max = k ? MSG_MAX : q.udp_size > UDP_DEFAULT ? q.udp_size : UDP_DEFAULT;
	size_t n = answer_locally(c, msg, &q, out, max > MSG_MAX ? MSG_MAX : max, k != NULL);
	if (n) {
		send_reply(c, k, peer, out, n);
		return;
	}
	if (!c->forward || !c->nup) {
		reply_rcode(c, k, peer, msg, &q, RC_SERVFAIL);
		return;
	}
	if (c->ndots && (q.qtype == T_A || q.qtype == T_AAAA) && !strchr(q.name, '.')) {
		/* the user's ndots: let the client try its search domains instead */
		reply_rcode(c, k, peer, msg, &q, RC_OK);
		return;
	}
	forward_start(c, k, peer, msg, len, &q);
}

static void on_udp(struct container *c)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof peer;
		ssize_t n = recvfrom(c->udp, msgbuf, sizeof msgbuf, MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return;
		handle_query(c, NULL, &peer, msgbuf, (size_t)n);
		if (c->dead)
			return;
	}
}

/* ---------------------------------------------------------------- TCP clients */

static void conn_close(struct conn *k)
{
	if (k->dead)
		return;
	k->dead = 1;
	close(k->fd);
	k->fd = -1;
	nconns--;
	for (struct forward *f = forwards; f; f = f->next)
		if (f->conn == k && !f->dead)
			forward_free(f);
}

static int conn_has_query(const struct conn *k)
{
	return k->in_have >= 2 && k->in_have >= 2 + (size_t)get16(k->in);
}

static void conn_update(struct conn *k)
{
	if (k->dead)
		return;
	int pending = k->out_off < k->out_len;
	if (!pending && k->eof && !k->waiting && !conn_has_query(k)) {
		conn_close(k);
		return;
	}
	uint32_t events = (k->waiting || k->eof ? 0 : EPOLLIN) | (pending ? EPOLLOUT : 0);
	if (events != k->events) {
		watch_mod(k->fd, &k->w, events);
		k->events = events;
	}
}

static void on_listen(struct container *c)
{
	for (;;) {
		int fd = accept4(c->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		struct conn *k = xcalloc(1, sizeof *k);
		k->c = c;
		k->fd = fd;
		k->w.kind = W_CONN;
		k->w.owner = k;
		k->events = EPOLLIN;
		k->deadline = now_ms() + CONN_IDLE_MS;
		k->next = conns;
		conns = k;
		nconns++;
		watch_add(fd, &k->w, EPOLLIN);
	}
}

static void on_conn(struct conn *k, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(k);  /* reset: nobody is there to answer */
		return;
	}
	if (events & EPOLLOUT) {
		while (k->out_off < k->out_len) {
			ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == EAGAIN)
				break;
			if (w <= 0) {
				conn_close(k);
				return;
			}
			k->out_off += (size_t)w;
		}
		if (k->out_off == k->out_len) {
			free(k->out);
			k->out = NULL;
			k->out_len = k->out_off = 0;
		}
	}
	if ((events & EPOLLIN) && !k->waiting && !k->eof) {
		if (k->in_cap - k->in_have < 4096) {
			size_t cap = k->in_cap ? k->in_cap * 2 : 4096;
			if (cap > MSG_MAX + 2 + 4096)
				cap = MSG_MAX + 2 + 4096;
			uint8_t *in = realloc(k->in, cap);
			if (!in) {
				conn_close(k);
				return;
			}
			k->in = in;
			k->in_cap = cap;
		}
		ssize_t n = recv(k->fd, k->in + k->in_have, k->in_cap - k->in_have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			k->eof = 1;     /* answered still, then closed (a client may shut down its side) */
		else
			k->in_have += (size_t)n;
		k->deadline = now_ms() + CONN_IDLE_MS;
	}
	/* one whole query at a time; the next waits for its answer */
	while (!k->dead && !k->waiting && conn_has_query(k)) {
		size_t len = get16(k->in);
		memcpy(msgbuf, k->in + 2, len);
		memmove(k->in, k->in + 2 + len, k->in_have - 2 - len);
		k->in_have -= 2 + len;
		handle_query(k->c, k, NULL, msgbuf, len);
	}
	conn_update(k);
}

/* ---------------------------------------------------------------- containers */

static void container_close(struct container *c)
{
	if (c->udp >= 0)
		close(c->udp);
	if (c->tcp >= 0)
		close(c->tcp);
	c->udp = c->tcp = -1;
	/* its clients and queries hold sockets in its namespace: they go too */
	for (struct conn *k = conns; k; k = k->next)
		if (k->c == c)
			conn_close(k);
	for (struct forward *f = forwards; f; f = f->next)
		if (f->c == c && !f->dead)
			forward_free(f);
}

/* 127.0.0.11:53, UDP and TCP, in the namespace at c->netns; 0, or -1 with err set. */
static int container_open(struct container *c, char *err, size_t errlen)
{
	int ns = open(c->netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		snprintf(err, errlen, "cannot open %s: %s", c->netns, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(ns, &st) < 0 || setns(ns, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot enter the network namespace %s: %s", c->netns,
			 strerror(errno));
		close(ns);
		return -1;
	}
	close(ns);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT),
				  .sin_addr.s_addr = htonl(LISTEN_ADDRESS) };
	int one = 1, failed = 0;
	struct ifreq lo = { .ifr_name = "lo" };
	c->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->udp >= 0 && (ioctl(c->udp, SIOCGIFFLAGS, &lo) < 0 || !(lo.ifr_flags & IFF_UP))) {
		/* a socket bound before the loopback is up takes queries but its answers
		 * never arrive: the container's network is not set up yet */
		snprintf(err, errlen, "the loopback of %s is not up yet", c->netns);
		failed = 1;
	} else if (c->udp < 0 || c->tcp < 0 ||
	    setsockopt(c->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(c->udp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    bind(c->tcp, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(c->tcp, 64) < 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.11:53 in %s: %s", c->netns,
			 strerror(errno));
		failed = 1;
	}
	if (setns(host_ns, CLONE_NEWNET) < 0) {
		/* every later socket would be made in the wrong namespace */
		logf_("cannot go back to the host's network namespace: %s", strerror(errno));
		exit(1);
	}
	if (failed) {
		container_close(c);
		return -1;
	}
	watch_add(c->udp, &c->wudp, EPOLLIN);
	watch_add(c->tcp, &c->wtcp, EPOLLIN);
	return 0;
}

static void container_free(struct container *c)
{
	free(c->id);
	free(c->netns);
	free(c->nets);
	free(c);
}

/* ---------------------------------------------------------------- reload */

static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *f = strtok_r(line, "\t", &save); f && n < max; f = strtok_r(NULL, "\t", &save))
		fields[n++] = f;
	return n;
}

static int network_index(const char *id)
{
	for (int i = 0; i < db.nnets; i++)
		if (strcmp(db.nets[i].id, id) == 0)
			return i;
	return -1;
}

static void parse_upstreams(struct container *c, char *list)
{
	c->nup = 0;
	char *save = NULL;
	for (char *s = strtok_r(list, ",", &save); s && c->nup < MAX_UPSTREAMS;
	     s = strtok_r(NULL, ",", &save)) {
		struct upstream *up = &c->up[c->nup];
		memset(up, 0, sizeof *up);
		struct sockaddr_in *v4 = (struct sockaddr_in *)&up->sa;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&up->sa;
		if (inet_pton(AF_INET, s, &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			v4->sin_port = htons(DNS_PORT);
			up->len = sizeof *v4;
		} else if (inet_pton(AF_INET6, s, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons(DNS_PORT);
			up->len = sizeof *v6;
		} else {
			continue;
		}
		c->nup++;
	}
}

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			char *bigger = realloc(buf, cap * 2 + 1);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

/* Read DIR/records and serve what it says; write the control reply to `reply`. */
static int reload(FILE *reply)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/records", dir);
	char *text = read_file(path);
	if (!text)
		text = xstrdup("");     /* no file: nothing to serve */
	/* first pass: count, to size the tables */
	int nn = 0, ne = 0, lines = 1;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	struct network *nets = xcalloc((size_t)lines, sizeof *nets);
	struct entry *entries = xcalloc((size_t)lines, sizeof *entries);
	char **cspec = xcalloc((size_t)lines, sizeof *cspec);
	int nc = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'N' && line[1] == '\t') {
			char *f[3];
			if (split(line + 2, f, 3) == 2) {
				nets[nn].id = f[0];
				nets[nn].name = f[1];
				nn++;
			}
		} else if (line[0] == 'A' && line[1] == '\t') {
			char *f[260];
			int n = split(line + 2, f, 260);
			struct entry *e = &entries[ne];
			if (n < 3 || inet_pton(AF_INET, f[1], &e->addr) != 1)
				continue;
			e->net = -1;
			for (int i = 0; i < nn; i++)
				if (strcmp(nets[i].id, f[0]) == 0)
					e->net = i;
			if (e->net < 0)
				continue;
			e->names = xcalloc((size_t)(n - 2), sizeof *e->names);
			for (int i = 2; i < n; i++)
				e->names[e->nnames++] = f[i];
			ne++;
		} else if (line[0] == 'C' && line[1] == '\t') {
			cspec[nc++] = line + 2;
		}
	}
	/* the new tables take effect before containers are matched to networks */
	char *old_text = db.text;
	struct entry *old_entries = db.entries;
	int old_ne = db.nentries;
	free(db.nets);
	db.text = text;
	db.nets = nets;
	db.nnets = nn;
	db.entries = entries;
	db.nentries = ne;
	for (int i = 0; i < old_ne; i++)
		free(old_entries[i].names);
	free(old_entries);

	for (struct container *c = containers; c; c = c->next)
		c->seen = 0;
	int served = 0;
	for (int i = 0; i < nc; i++) {
		char *f[6];
		/* ID, NETNS, FLAGS, NETWORKS (comma-separated ids), UPSTREAMS (comma-separated) */
		if (split(cspec[i], f, 6) != 5)
			continue;
		struct container *c = containers;
		while (c && (c->dead || strcmp(c->id, f[0]) != 0))
			c = c->next;
		struct stat st;
		int same = c && c->udp >= 0 && stat(f[1], &st) == 0 && st.st_dev == c->dev &&
			   st.st_ino == c->ino;
		if (c && !same)
			container_close(c);     /* the container started again: a new namespace */
		if (!c) {
			c = xcalloc(1, sizeof *c);
			c->id = xstrdup(f[0]);
			c->udp = c->tcp = -1;
			c->wudp = (struct watch){ W_UDP, c };
			c->wtcp = (struct watch){ W_LISTEN, c };
			c->next = containers;
			containers = c;
		}
		if (!c->netns || strcmp(c->netns, f[1]) != 0) {
			free(c->netns);
			c->netns = xstrdup(f[1]);
		}
		c->forward = strchr(f[2], 'f') != NULL;
		c->ndots = strchr(f[2], 'n') != NULL;
		free(c->nets);
		c->nets = xcalloc((size_t)db.nnets + 1, sizeof *c->nets);
		c->nnets = 0;
		char *s2 = NULL;
		for (char *id = strtok_r(f[3], ",", &s2); id; id = strtok_r(NULL, ",", &s2)) {
			int ni = network_index(id);
			if (ni >= 0 && c->nnets < db.nnets)
				c->nets[c->nnets++] = ni;
		}
		parse_upstreams(c, f[4]);
		c->seen = 1;
		if (!same) {
			char err[512];
			if (container_open(c, err, sizeof err) < 0) {
				fprintf(reply, "fail %s %s\n", c->id, err);
				logf_("container %.12s: %s", c->id, err);
				c->seen = 0;
				continue;
			}
		}
		served++;
	}
	for (struct container *c = containers; c; c = c->next) {
		if (!c->seen && !c->dead) {
			container_close(c);
			c->dead = 1;
		}
	}
	free(cspec);
	free(old_text);
	return served;
}

/* ---------------------------------------------------------------- control */

static int serving;

static void on_ctl(void)
{
	for (;;) {
		int fd = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* the engine writes its one line at once; a client that does not is dropped */
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		char line[64];
		size_t n = 0;
		while (n < sizeof line - 1) {
			ssize_t r = read(fd, line + n, sizeof line - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			if (memchr(line, '\n', n))
				break;
		}
		line[n] = 0;
		char *out = NULL;
		size_t outlen = 0;
		FILE *reply = open_memstream(&out, &outlen);
		if (!reply) {
			close(fd);
			continue;
		}
		int leaving = 0;
		if (strcmp(line, "reload\n") == 0) {
			serving = reload(reply);
			fprintf(reply, "ok %d\n", serving);
			if (serving == 0) {
				/* gone before the engine hears it: a start after this finds no
				 * socket and starts a new resolver */
				char path[4096];
				snprintf(path, sizeof path, "%s/ctl", dir);
				unlink(path);
				snprintf(path, sizeof path, "%s/pid", dir);
				unlink(path);
				fprintf(reply, "exit %d\n", (int)getpid());
				leaving = 1;
			}
		} else if (strcmp(line, "status\n") == 0) {
			fprintf(reply, "ok %d\n", serving);
		} else {
			fprintf(reply, "error unknown command\n");
		}
		fclose(reply);
		ssize_t ignored = write(fd, out, outlen);
		(void)ignored;
		free(out);
		close(fd);
		if (leaving) {
			logf_("nothing left to serve: exiting");
			exit(0);
		}
	}
}

/* ---------------------------------------------------------------- main loop */

static void sweep(long long now)
{
	for (struct forward *f = forwards; f; f = f->next)
		if (!f->dead && f->deadline <= now)
			forward_next(f);
	for (struct conn *k = conns; k; k = k->next)
		if (!k->dead && !k->waiting && k->deadline <= now)
			conn_close(k);
	/* free what died: nothing in the current epoll batch points to it any more */
	for (struct forward **p = &forwards; *p;) {
		struct forward *f = *p;
		if (f->dead) {
			*p = f->next;
			free(f->query);
			free(f->in);
			free(f);
		} else {
			p = &f->next;
		}
	}
	for (struct conn **p = &conns; *p;) {
		struct conn *k = *p;
		if (k->dead) {
			*p = k->next;
			free(k->in);
			free(k->out);
			free(k);
		} else {
			p = &k->next;
		}
	}
	for (struct container **p = &containers; *p;) {
		struct container *c = *p;
		if (c->dead) {
			*p = c->next;
			container_free(c);
		} else {
			p = &c->next;
		}
	}
}

static int next_timeout(long long now)
{
	long long first = -1;
	for (struct forward *f = forwards; f; f = f->next)
		if (!f->dead && (first < 0 || f->deadline < first))
			first = f->deadline;
	for (struct conn *k = conns; k; k = k->next)
		if (!k->dead && !k->waiting && (first < 0 || k->deadline < first))
			first = k->deadline;
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: dockyard-resolver --dir DIR --ctl-fd N [--foreground]\n"
		    "  DIR holds records (what to serve), ctl (the control socket), pid and log;\n"
		    "  N is a listening unix socket (bound at DIR/ctl) the engine made.\n");
}

int main(int argc, char **argv)
{
	int foreground = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--ctl-fd") == 0 && i + 1 < argc) {
			ctl_fd = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--foreground") == 0) {
			foreground = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!dir || dir[0] != '/' || ctl_fd < 0) {
		usage(stderr);
		return 2;
	}
	int maxfd = ctl_fd > 2 ? ctl_fd : 2;
	/* nothing inherited but the control socket: no pipe of a caller stays open here */
	syscall(SYS_close_range, (unsigned)maxfd + 1, ~0U, 0);
	for (int fd = 3; fd < maxfd; fd++)
		if (fd != ctl_fd)
			close(fd);
	if (!foreground) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0)
			_exit(0);       /* the engine reaps this one at once; the resolver lives on */
		setsid();
	}
	if (chdir("/") < 0)
		return 1;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char path[4096];
	snprintf(path, sizeof path, "%s/log", dir);
	struct stat st;
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log >= 0 && fstat(log, &st) == 0 && st.st_size > LOG_MAX && ftruncate(log, 0) < 0)
		st.st_size = 0; /* an old log that stays is no reason not to start */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(log >= 0 ? log : null, 2);
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrandom(&rng, sizeof rng, 0) != sizeof rng)
		rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	rng |= 1;
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (host_ns < 0 || epfd < 0) {
		logf_("cannot start: %s", strerror(errno));
		return 1;
	}
	fcntl(ctl_fd, F_SETFD, FD_CLOEXEC);
	fcntl(ctl_fd, F_SETFL, fcntl(ctl_fd, F_GETFL) | O_NONBLOCK);
	watch_add(ctl_fd, &wctl, EPOLLIN);
	snprintf(path, sizeof path, "%s/pid", dir);
	FILE *pidf = fopen(path, "we");
	if (pidf) {
		fprintf(pidf, "%d", (int)getpid());
		fclose(pidf);
	}
	logf_("started, pid %d", (int)getpid());
	struct epoll_event events[64];
	for (;;) {
		int n = epoll_wait(epfd, events, 64, next_timeout(now_ms()));
		if (n < 0 && errno != EINTR) {
			logf_("epoll_wait: %s", strerror(errno));
			return 1;
		}
		int control = 0;
		for (int i = 0; i < n; i++) {
			struct watch *w = events[i].data.ptr;
			switch (w->kind) {
			case W_CTL:
				control = 1;    /* after the batch: a reload may free what it points to */
				break;
			case W_UDP: {
				struct container *c = w->owner;
				if (!c->dead && c->udp >= 0)
					on_udp(c);
				break;
			}
			case W_LISTEN: {
				struct container *c = w->owner;
				if (!c->dead && c->tcp >= 0)
					on_listen(c);
				break;
			}
			case W_CONN: {
				struct conn *k = w->owner;
				if (!k->dead)
					on_conn(k, events[i].events);
				break;
			}
			case W_FORWARD: {
				struct forward *f = w->owner;
				if (!f->dead)
					on_forward(f, events[i].events);
				break;
			}
			}
		}
		if (control)
			on_ctl();
		sweep(now_ms());
	}
}
