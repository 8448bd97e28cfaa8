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
  listen(fd: number, backlog: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  getrlimit(resource: number, limits: Buffer): number;
  setrlimit(resource: number, limits: Buffer): number;
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
      listen: f<'listen'>('int listen(int fd, int backlog)'),
      recv: f<'recv'>('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
      getrlimit: f<'getrlimit'>('int getrlimit(int resource, void *rlim)'),
      setrlimit: f<'setrlimit'>('int setrlimit(int resource, const void *rlim)'),
      close: f<'close'>('int close(int fd)'),
    };
  }
  return bound;
}

const RLIMIT_NOFILE = 7;

/**
 * Raises this process's soft limit on open descriptors to its hard limit
 * (as Envoy does): every proxied connection holds one or two, and the usual
 * soft default of 1024 would turn a busy node into EMFILE. Returns the limit
 * now in force.
 */
export function raiseFileLimit(): number {
  const lim = Buffer.alloc(16); // struct rlimit { rlim_t cur, max } on 64-bit Linux
  if (libc().getrlimit(RLIMIT_NOFILE, lim) !== 0) return -1;
  const hard = lim.readBigUInt64LE(8);
  if (lim.readBigUInt64LE(0) < hard) {
    lim.writeBigUInt64LE(hard, 0);
    libc().setrlimit(RLIMIT_NOFILE, lim);
    libc().getrlimit(RLIMIT_NOFILE, lim);
  }
  return Number(lim.readBigUInt64LE(0));
}
