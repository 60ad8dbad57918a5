// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// leastpriv's eBPF recorder: what one workload needs, kept in kernel maps and read once at the end.
//
// A workload is a set of mount namespaces (`slots`: the namespace's inode number -> its record in
// `records`). The local recorder inserts the namespace it unshared for the child before the child
// execs; the container recorder names the container (`config.container_id`) and the first task of a
// new mount namespace whose v1 cgroup is named after that container enrols its namespace. Other
// namespaces are remembered in `ignored` so that each is judged once, and each CPU keeps its last
// lookup (`slot_cache`), so the hot path hashes nothing while one workload runs.
//
// Only tasks that already run under a seccomp filter count: the workload runs under an allow-all
// filter while it is recorded, so the runtime's set-up before it loads the filter (mount, pivot_root,
// sethostname …) stays out of the profile and everything after it (runc's path to execve) is in.
//
// One program, on the raw_syscalls:sys_enter tracepoint (tp_btf): one bit per syscall number, no
// per-event traffic; and for the few syscalls that say more, from their arguments:
// - bind: the port (from the sockaddr in user memory) and the socket's type (through the fd table);
// - open/openat/creat with a write flag, mkdir/mkdirat: the path as the workload wrote it (absolute,
//   or relative to the working directory; relative to another directory fd is not resolvable here).
// A second program, on the capability:cap_capable tracepoint (tp_btf), records each capability check
// of the workload's tasks with the kernel stack that made it (see `cap_capable` below).
// Why not fentry on security_file_open / cap_capable or the BPF LSM `capable` hook, which would see
// resolved paths and the check's options: this machine's kernel refuses to load any trampoline
// program (fentry, fexit, fmod_ret, LSM: EPERM even for an empty program) and has no kprobes, so
// tracepoints are the attach points there are.
//
// Built by crates/profile/bpf/build.sh (clang-14, CO-RE against the running kernel's BTF), once per
// architecture (pt_regs differ); the objects are checked in and CI proves they match this source.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

// Only the fields read here; `preserve_access_index` makes every access a CO-RE relocation, resolved
// against the kernel's BTF when the object is loaded.
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct seccomp {
	int mode;
} __attribute__((preserve_access_index));

struct kernfs_node {
	const char *name;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup_subsys_state *subsys[12];
} __attribute__((preserve_access_index));

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

typedef struct {
	__u64 val;
} lp_cap_t;

struct cred {
	lp_cap_t cap_effective;
	lp_cap_t cap_bset;
} __attribute__((preserve_access_index));

struct task_struct {
	const struct cred *real_cred;
	struct fs_struct *fs;
	struct nsproxy *nsproxy;
	struct seccomp seccomp;
	struct css_set *cgroups;
	struct files_struct *files;
} __attribute__((preserve_access_index));

struct file {
	void *private_data;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct socket {
	short type;
} __attribute__((preserve_access_index));

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long cs;
} __attribute__((preserve_access_index));
// A 32-bit (compat) syscall: its number is in another table.
#define COMPAT(regs) ((regs)->cs == 0x23)
#define ARG0(regs) ((regs)->di)
#define ARG1(regs) ((regs)->si)
#define ARG2(regs) ((regs)->dx)
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_MKDIR 83
#define NR_BIND 49
#define NR_OPENAT 257
#define NR_MKDIRAT 258
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	unsigned long long regs[31];
	unsigned long long pstate;
} __attribute__((preserve_access_index));
// A 32-bit (AArch32) task: PSR_MODE32_BIT.
#define COMPAT(regs) ((regs)->pstate & 0x10)
#define ARG0(regs) ((regs)->regs[0])
#define ARG1(regs) ((regs)->regs[1])
#define ARG2(regs) ((regs)->regs[2])
#define NR_OPEN -1
#define NR_CREAT -1
#define NR_MKDIR -1
#define NR_BIND 200
#define NR_OPENAT 56
#define NR_MKDIRAT 34
#else
#error "build with -D__TARGET_ARCH_x86 or -D__TARGET_ARCH_arm64"
#endif

enum cgroup_subsys_id {
	pids_cgrp_id = 11,
};

#define SECCOMP_MODE_FILTER 2
#define AF_INET 2
#define AF_INET6 10
#define AT_FDCWD -100
#define O_ACCMODE 3
#define O_CREAT 0100
#define O_TRUNC 01000

// Syscall numbers recorded: both tables leastpriv names stay below 1024.
#define SYSCALL_SLOTS 1024
#define CONTAINER_ID_LEN 64
#define PATH_LEN 256
// The working directory of a relative path: up to CWD_SLOTS names, the innermost first.
#define CWD_SLOTS 24
#define NAME_LEN 32

struct record {
	__u64 syscalls[SYSCALL_SLOTS / 64];
	// A 32-bit task's syscalls (x86_64: the i386 table; arm64: the arm table).
	__u64 compat[SYSCALL_SLOTS / 64];
};

struct config {
	// The container's full id (the name of its v1 cgroup under Docker's cgroupfs driver); empty when
	// the workload's namespace is enrolled by user space.
	char container_id[CONTAINER_ID_LEN];
	// Bumped whenever a namespace is enrolled: the per-CPU caches of older generations are stale.
	__u64 generation;
	// The next free slot of `records`.
	__u32 next_slot;
	__u32 pad;
};

// The last namespace this CPU looked up, and its slot (NO_SLOT: not recorded): the tasks of one
// workload run many syscalls in a row on a CPU, so most lookups end here, on an array the verifier
// inlines, instead of hashing the namespace.
#define NO_SLOT 0xffffffff
struct cached_slot {
	__u32 mntns;
	__u32 slot;
	__u64 generation;
};

struct path_key {
	__u32 mntns;
	// 1: relative to the working directory, whose names are in `cwd`.
	__u32 relative;
	char path[PATH_LEN];
	char cwd[CWD_SLOTS][NAME_LEN];
};

// A capability check: which, whether it was granted, and the kernel stack that made it (return
// addresses, innermost first; user space names them from /proc/kallsyms to tell the checks the
// kernel makes only to ask, with CAP_OPT_NOAUDIT, which the tracepoint does not carry).
#define CHECK_FRAMES 12
struct check_key {
	__u32 mntns;
	__u8 cap;
	__u8 granted;
	__u16 pad;
	// The checked credentials' bounding set: a container runtime that loads the filter before it
	// drops the bounding set makes checks with a wider one than the container ends with.
	__u64 bounding;
	__u64 frames[CHECK_FRAMES];
};

struct port_key {
	__u32 mntns;
	__u16 port;
	__u16 type;
};

#define RECORD_SLOTS 64
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RECORD_SLOTS);
	__type(key, __u32);
	__type(value, struct record);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RECORD_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cached_slot);
} slot_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} ignored SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, 1); // BPF_F_NO_PREALLOC
	__type(key, struct path_key);
	__type(value, __u8);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct port_key);
	__type(value, __u8);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct check_key);
	__type(value, __u8);
} checks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	// 0: the key being built; 1: zeroes.
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct path_key);
} scratch SEC(".maps");

// Whether the task's v1 cgroup (pids hierarchy) is named after the configured container.
static __always_inline int in_configured_container(struct task_struct *task)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || cfg->container_id[0] == 0)
		return 0;
	int index = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	if (index < 0 || index >= 12)
		return 0;
	struct css_set *cgroups = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css = 0;
	bpf_core_read(&css, sizeof(css), &cgroups->subsys[index]);
	if (!css)
		return 0;
	const char *name = BPF_CORE_READ(css, cgroup, kn, name);
	char leaf[CONTAINER_ID_LEN];
	if (bpf_probe_read_kernel(leaf, sizeof(leaf), name) < 0)
		return 0;
	for (int i = 0; i < CONTAINER_ID_LEN; i++) {
		if (leaf[i] != cfg->container_id[i])
			return 0;
	}
	return 1;
}

// The slot of `mntns`, or NO_SLOT; enrols a new namespace of the configured container when `enrol`.
static __always_inline __u32 slot_of(struct task_struct *task, __u32 mntns, struct config *cfg,
				     int enrol)
{
	__u32 *found = bpf_map_lookup_elem(&slots, &mntns);
	if (found)
		return *found;
	if (!enrol || cfg->container_id[0] == 0 || bpf_map_lookup_elem(&ignored, &mntns))
		return NO_SLOT;
	if (!in_configured_container(task)) {
		__u8 one = 1;
		bpf_map_update_elem(&ignored, &mntns, &one, BPF_ANY);
		return NO_SLOT;
	}
	__u32 slot = __sync_fetch_and_add(&cfg->next_slot, 1);
	if (slot >= RECORD_SLOTS)
		return NO_SLOT;
	if (bpf_map_update_elem(&slots, &mntns, &slot, BPF_NOEXIST) < 0) {
		// Another CPU enrolled it first.
		found = bpf_map_lookup_elem(&slots, &mntns);
		return found ? *found : NO_SLOT;
	}
	__sync_fetch_and_add(&cfg->generation, 1);
	return slot;
}

// The record of the current task's workload, or NULL: only tasks under a seccomp filter, and of a
// recorded namespace.
static __always_inline struct record *current_record(int enrol, __u32 *mntns_out)
{
	// Direct loads through the BTF-typed task (no helper calls): this runs on every syscall.
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->seccomp.mode != SECCOMP_MODE_FILTER)
		return 0;
	__u32 mntns = task->nsproxy->mnt_ns->ns.inum;
	*mntns_out = mntns;
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	struct cached_slot *cache = bpf_map_lookup_elem(&slot_cache, &zero);
	if (!cfg || !cache)
		return 0;
	__u64 generation = cfg->generation;
	__u32 slot;
	if (cache->mntns == mntns && cache->generation == generation) {
		slot = cache->slot;
	} else {
		slot = slot_of(task, mntns, cfg, enrol);
		cache->mntns = mntns;
		cache->slot = slot;
		cache->generation = generation;
	}
	if (slot >= RECORD_SLOTS)
		return 0;
	return bpf_map_lookup_elem(&records, &slot);
}

// The task's working directory, as names from the innermost up to its root (crossing mounts; a
// crossing leaves its slot empty, so that the slot is the loop counter and the verifier's states
// converge); 0 when it is deeper than CWD_SLOTS or a name is longer than NAME_LEN - 1 (the path is
// then left out rather than reported wrong).
static __always_inline int working_directory(struct path_key *key)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct dentry *root = BPF_CORE_READ(fs, root.dentry);
	struct vfsmount *root_mnt = BPF_CORE_READ(fs, root.mnt);
	struct dentry *dentry = BPF_CORE_READ(fs, pwd.dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(fs, pwd.mnt);
#pragma clang loop unroll(disable)
	for (int slot = 0; slot < CWD_SLOTS; slot++) {
		if (dentry == root && vfsmnt == root_mnt)
			return 1;
		if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
			// The root of a mount: go on from where it is mounted.
			struct mount *mount =
				(void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
			struct mount *parent = BPF_CORE_READ(mount, mnt_parent);
			if (parent == mount)
				return 1;
			dentry = BPF_CORE_READ(mount, mnt_mountpoint);
			vfsmnt = (void *)parent + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		if (parent == dentry)
			return 1;
		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
		long length = bpf_probe_read_kernel_str(key->cwd[slot], NAME_LEN, name);
		if (length <= 0 || length >= NAME_LEN)
			return 0;
		dentry = parent;
	}
	return 0;
}

// A write-open or mkdir: the path as given, when it names a file from / or the working directory.
static __always_inline void record_path(__u32 mntns, int dirfd, const char *user_path)
{
	__u32 zero = 0;
	struct path_key *key = bpf_map_lookup_elem(&scratch, &zero);
	if (!key)
		return;
	// The key is hashed whole, so it starts from zeroes (a memset this large is no BPF instruction:
	// copy from the entry nobody writes).
	__u32 one_index = 1;
	struct path_key *zeroes = bpf_map_lookup_elem(&scratch, &one_index);
	if (!zeroes || bpf_probe_read_kernel(key, sizeof(*key), zeroes) < 0)
		return;
	key->mntns = mntns;
	if (bpf_probe_read_user_str(key->path, sizeof(key->path), user_path) <= 1)
		return;
	if (key->path[0] != '/') {
		if (dirfd != AT_FDCWD || !working_directory(key))
			return;
		key->relative = 1;
	}
	__u8 one = 1;
	bpf_map_update_elem(&paths, key, &one, BPF_ANY);
}

// A bind: the port from the sockaddr, the socket type through the task's fd table.
static __always_inline void record_bind(__u32 mntns, int fd, const void *user_addr)
{
	struct {
		__u16 family;
		__be16 port;
	} addr = {};
	if (bpf_probe_read_user(&addr, sizeof(addr), user_addr) < 0)
		return;
	if (addr.family != AF_INET && addr.family != AF_INET6)
		return;
	struct port_key key = {
		.mntns = mntns,
		.port = __builtin_bswap16(addr.port),
	};
	if (key.port == 0)
		return;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	struct socket *sock = BPF_CORE_READ(file, private_data);
	key.type = BPF_CORE_READ(sock, type);
	__u8 one = 1;
	bpf_map_update_elem(&ports, &key, &one, BPF_ANY);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u32 mntns;
	struct record *record = current_record(1, &mntns);
	if (!record || id < 0 || id >= SYSCALL_SLOTS)
		return 0;
	__u64 bit = 1ULL << (id & 63);
	__u32 index = (id >> 6) & (SYSCALL_SLOTS / 64 - 1);
	if (COMPAT(regs)) {
		// Numbered in the compat table; their arguments (paths, ports) are not read.
		if (!(record->compat[index] & bit))
			__sync_fetch_and_or(&record->compat[index], bit);
		return 0;
	}
	__u64 *word = &record->syscalls[index];
	// Read before the atomic write: the bit is set after a syscall's first use, and a locked
	// or on a shared cache line costs more than the load.
	if (!(*word & bit))
		__sync_fetch_and_or(word, bit);

	if (id == NR_BIND) {
		record_bind(mntns, (int)ARG0(regs), (const void *)ARG1(regs));
	} else if (id == NR_OPENAT) {
		long flags = ARG2(regs);
		if ((flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC)))
			record_path(mntns, (int)ARG0(regs), (const char *)ARG1(regs));
	} else if (id == NR_MKDIRAT) {
		record_path(mntns, (int)ARG0(regs), (const char *)ARG1(regs));
	} else if (id == NR_OPEN) {
		long flags = ARG1(regs);
		if ((flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC)))
			record_path(mntns, AT_FDCWD, (const char *)ARG0(regs));
	} else if (id == NR_CREAT || id == NR_MKDIR) {
		record_path(mntns, AT_FDCWD, (const char *)ARG0(regs));
	}
	return 0;
}

// The capability:cap_capable tracepoint, at the end of the kernel's capability decision
// (cap_capable()). Counted: checks of the task's own credentials (not the credentials a filesystem
// such as overlayfs substitutes for its own work, nor access()'s) whose effective set lies within
// the bounding set (a runtime between dropping the bounding set and the effective set, as runc's
// init is after it loads the seccomp filter, still holds every capability it started with).
SEC("tp_btf/cap_capable")
int BPF_PROG(cap_capable, const struct cred *cred, void *target_ns, const void *capable_ns, int cap,
	     int ret)
{
	__u32 mntns;
	struct record *record = current_record(0, &mntns);
	if (!record || cap < 0 || cap >= 64)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (cred != task->real_cred)
		return 0;
	__u64 effective = BPF_CORE_READ(cred, cap_effective.val);
	__u64 bounding = BPF_CORE_READ(cred, cap_bset.val);
	if (effective & ~bounding)
		return 0;
	struct check_key key = {
		.mntns = mntns,
		.cap = cap,
		.granted = ret == 0,
		.bounding = bounding,
	};
	bpf_get_stack(ctx, key.frames, sizeof(key.frames), 0);
	__u8 one = 1;
	bpf_map_update_elem(&checks, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
