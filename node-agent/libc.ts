import koffi from 'koffi';

/**
 * The socket calls of the C library the agent makes itself, on descriptors
 * Node owns (through koffi): what Node cannot do (IP_TRANSPARENT, SO_REUSEPORT, socket
 * cookies, TCP_INFO, SO_LINGER set early, a recv() that leaves Node's own
 * buffering out). Bound once per thread, on first use. Each returns what
 * libc returns; errno is koffi.errno().
 */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: number[]): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
}

let bound: Libc | undefined;

export function libc(): Libc {
  if (!bound) {
    const lib = koffi.load('libc.so.6');
    const f = <K extends keyof Libc>(sig: string) => lib.func(sig) as Libc[K];
    bound = {
      socket: f<'socket'>('int socket(int domain, int type, int protocol)'),
      getsockopt: f<'getsockopt'>('int getsockopt(int fd, int level, int name, void *value, _Inout_ uint32_t *len)'),
      setsockopt: f<'setsockopt'>('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
      bind: f<'bind'>('int bind(int fd, const void *addr, uint32_t len)'),
      recv: f<'recv'>('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
      close: f<'close'>('int close(int fd)'),
    };
  }
  return bound;
}
