/* udp: the UDP half of the network tests (busybox's nc has no -u here).
 *
 *   udp serve PORT           answer each datagram "X" with "pong:X", forever
 *   udp send HOST PORT TEXT  send TEXT, print the answer; exit 1 after 2 s without one
 *                            (HOST an address or a name, looked up through resolv.conf)
 *
 * Built statically by the tests and put in a test image beside busybox. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int serve(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("udp serve");
        return 1;
    }
    for (;;) {
        char buf[1024], reply[1100];
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&peer, &len);
        if (n < 0)
            continue;
        buf[n] = 0;
        int m = snprintf(reply, sizeof reply, "pong:%s", buf);
        sendto(fd, reply, m, 0, (struct sockaddr *)&peer, len);
    }
}

static int send_one(const char *host, int port, const char *text) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *found = NULL;
    struct sockaddr_in addr;
    struct timeval timeout = {.tv_sec = 2};
    char buf[1100];
    int error = getaddrinfo(host, NULL, &hints, &found);
    if (fd < 0 || error != 0) {
        fprintf(stderr, "udp send: cannot resolve %s: %s\n", host, gai_strerror(error));
        return 2;
    }
    memcpy(&addr, found->ai_addr, sizeof addr);
    freeaddrinfo(found);
    addr.sin_port = htons(port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("udp send");
        return 1;
    }
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("udp send: no answer");
        return 1;
    }
    buf[n] = 0;
    printf("%s\n", buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "send") == 0)
        return send_one(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: udp serve PORT | udp send HOST PORT TEXT\n");
    return 2;
}
