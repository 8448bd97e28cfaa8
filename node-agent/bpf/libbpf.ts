import koffi, { type LibraryHandle } from 'koffi';
import { AmbitError } from '../../lib/errors.js';
import { libc } from '../libc.js';

/**
 * The slice of libbpf (libbpf.so.1, Debian's libbpf1) the agent calls, bound
 * through koffi. libbpf 1.x returns NULL + errno from constructors and
 * -errno from int functions; `check*` turn both into AmbitErrors.
 */
export interface LibBpf {
  objectOpenFile(path: string): unknown;
  objectLoad(obj: unknown): number;
  objectClose(obj: unknown): void;
  objectFindProgram(obj: unknown, name: string): unknown;
  objectNextMap(obj: unknown, prev: unknown): unknown;
  mapName(map: unknown): string;
  mapSetPinPath(map: unknown, path: string): number;
  mapFd(map: unknown): number;
  programAttachCgroup(prog: unknown, cgroupFd: number): unknown;
  programFd(prog: unknown): number;
  objectFindMap(obj: unknown, name: string): unknown;
  /** A bpf_link of any attach type (a program on a sockmap, say); returns its fd or -errno. */
  linkCreate(progFd: number, targetFd: number, attachType: number): number;
  objPin(fd: number, path: string): number;
  linkPin(link: unknown, path: string): number;
  linkOpen(path: string): unknown;
  linkUpdateProgram(link: unknown, prog: unknown): number;
  linkUnpin(link: unknown): number;
  linkDestroy(link: unknown): number;
  objGet(path: string): number;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: bigint): number;
  mapLookup(fd: number, key: Buffer, value: Buffer): number;
  mapDelete(fd: number, key: Buffer): number;
  mapGetNextKey(fd: number, key: Buffer | null, next: Buffer): number;
  close(fd: number): number;
  errno(): number;
}

let bound: LibBpf | undefined;

/** Binds libbpf once per thread (a worker has its own module instance); a missing library is a clear error. */
export function libbpf(): LibBpf {
  if (bound) return bound;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch (cause) {
    throw new AmbitError(
      'AMBIT_ERR_PRIVILEGE',
      'cannot load libbpf.so.1: install Debian package libbpf1 (or libbpf-dev)',
      { cause },
    );
  }
  // libbpf's objects are opaque handles; koffi keeps them as external pointers.
  koffi.opaque('bpf_opaque');
  const f = <T extends (...args: never[]) => unknown>(l: LibraryHandle, sig: string) => l.func(sig) as unknown as T;
  bound = {
    objectOpenFile: ((open: (path: string, opts: null) => unknown) => (path: string) => open(path, null))(
      f(lib, 'bpf_opaque *bpf_object__open_file(const char *path, void *opts)'),
    ),
    objectLoad: f(lib, 'int bpf_object__load(bpf_opaque *obj)'),
    objectClose: f(lib, 'void bpf_object__close(bpf_opaque *obj)'),
    objectFindProgram: f(lib, 'bpf_opaque *bpf_object__find_program_by_name(bpf_opaque *obj, const char *name)'),
    objectNextMap: f(lib, 'bpf_opaque *bpf_object__next_map(bpf_opaque *obj, bpf_opaque *prev)'),
    mapName: f(lib, 'const char *bpf_map__name(bpf_opaque *map)'),
    mapSetPinPath: f(lib, 'int bpf_map__set_pin_path(bpf_opaque *map, const char *path)'),
    mapFd: f(lib, 'int bpf_map__fd(bpf_opaque *map)'),
    programAttachCgroup: f(lib, 'bpf_opaque *bpf_program__attach_cgroup(bpf_opaque *prog, int cgroup_fd)'),
    programFd: f(lib, 'int bpf_program__fd(bpf_opaque *prog)'),
    objectFindMap: f(lib, 'bpf_opaque *bpf_object__find_map_by_name(bpf_opaque *obj, const char *name)'),
    // libbpf 1.1 has no bpf_program__attach_sockmap; the generic call takes any attach type.
    linkCreate: ((create: (prog: number, target: number, type: number, opts: null) => number) => (prog: number, target: number, type: number) => create(prog, target, type, null))(
      f(lib, 'int bpf_link_create(int prog_fd, int target_fd, int attach_type, void *opts)'),
    ),
    objPin: f(lib, 'int bpf_obj_pin(int fd, const char *pathname)'),
    linkPin: f(lib, 'int bpf_link__pin(bpf_opaque *link, const char *path)'),
    linkOpen: f(lib, 'bpf_opaque *bpf_link__open(const char *path)'),
    linkUpdateProgram: f(lib, 'int bpf_link__update_program(bpf_opaque *link, bpf_opaque *prog)'),
    linkUnpin: f(lib, 'int bpf_link__unpin(bpf_opaque *link)'),
    linkDestroy: f(lib, 'int bpf_link__destroy(bpf_opaque *link)'),
    objGet: f(lib, 'int bpf_obj_get(const char *path)'),
    mapUpdate: f(lib, 'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    mapLookup: f(lib, 'int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    mapDelete: f(lib, 'int bpf_map_delete_elem(int fd, const void *key)'),
    mapGetNextKey: f(lib, 'int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    close: (fd: number) => libc().close(fd),
    errno: () => koffi.errno(),
  };
  return bound;
}
