/*
 * dnsq: one DNS question, over UDP or TCP, from inside a test container (busybox's
 * nslookup has no TCP and hides the answer's flags).
 *
 *     dnsq [-t] [-s SERVER] [-e EDNS_SIZE] NAME [A|AAAA|PTR|MX|TXT]
 *
 * Prints "rcode=NOERROR tc=0 ra=1 answers=N", then one line per answer:
 * "A 10.1.2.3 600" or "PTR name.net. 600". Exit status 0 when an answer came,
 * 2 when none did (refused, timed out: the message says which).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };

static int qtype_of(const char *s)
{
	if (!strcasecmp(s, "A"))
		return 1;
	if (!strcasecmp(s, "PTR"))
		return 12;
	if (!strcasecmp(s, "MX"))
		return 15;
	if (!strcasecmp(s, "TXT"))
		return 16;
	if (!strcasecmp(s, "AAAA"))
		return 28;
	return atoi(s);
}

/* The name at p (compression followed) into out; the offset after it, 0 on a bad name. */
static size_t name_at(const uint8_t *m, size_t len, size_t p, char *out, size_t cap)
{
	size_t end = 0, n = 0;
	int jumps = 0;
	while (p < len) {
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= len || ++jumps > 20)
				return 0;
			if (!end)
				end = p + 2;
			p = (size_t)(l & 0x3F) << 8 | m[p + 1];
			continue;
		}
		if (l == 0) {
			if (n < cap)
				out[n] = 0;
			return end ? end : p + 1;
		}
		if (p + 1 + l > len || n + l + 2 > cap)
			return 0;
		memcpy(out + n, m + p + 1, l);
		n += l;
		out[n++] = '.';
		p += 1 + l;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int tcp = 0, opt;
	unsigned edns = 0;
	const char *server = "127.0.0.11";
	while ((opt = getopt(argc, argv, "ts:e:")) != -1) {
		if (opt == 't')
			tcp = 1;
		else if (opt == 's')
			server = optarg;
		else if (opt == 'e')
			edns = (unsigned)atoi(optarg);
		else
			return 64;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: dnsq [-t] [-s SERVER] [-e EDNS_SIZE] NAME [TYPE]\n");
		return 64;
	}
	const char *name = argv[optind];
	int qtype = optind + 1 < argc ? qtype_of(argv[optind + 1]) : 1;
	uint8_t q[600];
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	uint16_t id = (uint16_t)rand();
	size_t n = 0;
	q[n++] = id >> 8, q[n++] = id & 0xFF, q[n++] = 0x01, q[n++] = 0;
	q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 0, q[n++] = 0, q[n++] = 0;
	q[n++] = 0, q[n++] = edns ? 1 : 0;
	char copy[300];
	snprintf(copy, sizeof copy, "%s", name);
	for (char *label = strtok(copy, "."); label; label = strtok(NULL, ".")) {
		size_t l = strlen(label);
		if (l > 63 || n + l + 20 > sizeof q)
			return 64;
		q[n++] = (uint8_t)l;
		memcpy(q + n, label, l);
		n += l;
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(qtype >> 8), q[n++] = (uint8_t)qtype, q[n++] = 0, q[n++] = 1;
	if (edns) {
		q[n++] = 0, q[n++] = 0, q[n++] = 41, q[n++] = (uint8_t)(edns >> 8);
		q[n++] = (uint8_t)edns, q[n++] = 0, q[n++] = 0, q[n++] = 0, q[n++] = 0;
		q[n++] = 0, q[n++] = 0;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	if (inet_pton(AF_INET, server, &sa.sin_addr) != 1)
		return 64;
	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 10 };  /* bounds a failure only: a loaded machine */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		printf("error: connect: %s\n", strerror(errno));
		return 2;
	}
	static uint8_t m[65536 + 2];
	ssize_t got;
	if (tcp) {
		uint8_t framed[sizeof q + 2];
		framed[0] = (uint8_t)(n >> 8), framed[1] = (uint8_t)n;
		memcpy(framed + 2, q, n);
		if (write(fd, framed, n + 2) != (ssize_t)(n + 2)) {
			printf("error: write: %s\n", strerror(errno));
			return 2;
		}
		size_t have = 0;
		while (have < 2 || have < 2 + (size_t)(m[0] << 8 | m[1])) {
			ssize_t r = read(fd, m + have, sizeof m - have);
			if (r <= 0) {
				printf("error: read: %s\n", r < 0 ? strerror(errno) : "closed");
				return 2;
			}
			have += (size_t)r;
		}
		got = (ssize_t)(m[0] << 8 | m[1]);
		memmove(m, m + 2, (size_t)got);
	} else {
		if (send(fd, q, n, 0) != (ssize_t)n) {
			printf("error: send: %s\n", strerror(errno));
			return 2;
		}
		got = recv(fd, m, sizeof m, 0);
		if (got < 12) {
			printf("error: recv: %s\n", got < 0 ? strerror(errno) : "short");
			return 2;
		}
	}
	size_t len = (size_t)got;
	if ((m[0] << 8 | m[1]) != id) {
		printf("error: the answer's id is not the query's\n");
		return 2;
	}
	unsigned rcode = m[3] & 0xF, an = (unsigned)(m[6] << 8 | m[7]);
	printf("rcode=%s tc=%d ra=%d answers=%u\n", rcode < 6 ? rcodes[rcode] : "OTHER",
	       !!(m[2] & 0x02), !!(m[3] & 0x80), an);
	size_t p = 12;
	char text[300];
	for (unsigned i = 0, qd = (unsigned)(m[4] << 8 | m[5]); i < qd; i++) {
		if (!(p = name_at(m, len, p, text, sizeof text)))
			return 2;
		p += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		if (!(p = name_at(m, len, p, text, sizeof text)) || p + 10 > len)
			return 2;
		unsigned type = (unsigned)(m[p] << 8 | m[p + 1]);
		unsigned ttl = (unsigned)m[p + 4] << 24 | (unsigned)m[p + 5] << 16 |
			       (unsigned)m[p + 6] << 8 | m[p + 7];
		size_t rdlen = (size_t)(m[p + 8] << 8 | m[p + 9]);
		p += 10;
		if (type == 1 && rdlen == 4) {
			printf("A %u.%u.%u.%u %u\n", m[p], m[p + 1], m[p + 2], m[p + 3], ttl);
		} else if (type == 12) {
			name_at(m, len, p, text, sizeof text);
			printf("PTR %s %u\n", text, ttl);
		} else {
			printf("TYPE%u %zu %u\n", type, rdlen, ttl);
		}
		p += rdlen;
	}
	return 0;
}
