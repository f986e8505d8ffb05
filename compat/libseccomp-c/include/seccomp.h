/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * seccomp.h for pure-seccomp's libseccomp.so.2: the API of libseccomp 2.6, declared anew
 * for the Rust implementation in compat/libseccomp-sys (no libseccomp code or text).
 *
 * Programs written for libseccomp compile against it unchanged; SCMP_SYS(name) comes from
 * seccomp-syscalls.h, generated from pure-seccomp's syscall tables.
 */

#ifndef _SECCOMP_H
#define _SECCOMP_H

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <asm/unistd.h>
#include <linux/types.h>
#include <linux/seccomp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The libseccomp version whose behaviour this library implements. */
#define SCMP_VER_MAJOR 2
#define SCMP_VER_MINOR 6
#define SCMP_VER_MICRO 0

struct scmp_version {
	unsigned int major;
	unsigned int minor;
	unsigned int micro;
};

/* A filter under construction (opaque). */
typedef void *scmp_filter_ctx;

/* Filter attributes, for seccomp_attr_get() and seccomp_attr_set(). */
enum scmp_filter_attr {
	_SCMP_FLTATR_MIN = 0,
	SCMP_FLTATR_ACT_DEFAULT = 1,  /* default action (read-only) */
	SCMP_FLTATR_ACT_BADARCH = 2,  /* action for a foreign architecture */
	SCMP_FLTATR_CTL_NNP = 3,      /* set NO_NEW_PRIVS when loading */
	SCMP_FLTATR_CTL_TSYNC = 4,    /* synchronise all threads when loading */
	SCMP_FLTATR_API_TSKIP = 5,    /* allow rules on syscall -1 */
	SCMP_FLTATR_CTL_LOG = 6,      /* log every action but allow */
	SCMP_FLTATR_CTL_SSB = 7,      /* disable the SSB mitigation */
	SCMP_FLTATR_CTL_OPTIMIZE = 8, /* 1: priority-ordered, 2: binary tree */
	SCMP_FLTATR_API_SYSRAWRC = 9, /* return the system's errno, not -ECANCELED */
	SCMP_FLTATR_CTL_WAITKILL = 10, /* wait killably for notification answers */
	_SCMP_FLTATR_MAX,
};

/* Comparison operators of struct scmp_arg_cmp. */
enum scmp_compare {
	_SCMP_CMP_MIN = 0,
	SCMP_CMP_NE = 1,        /* arg != datum_a */
	SCMP_CMP_LT = 2,        /* arg < datum_a */
	SCMP_CMP_LE = 3,        /* arg <= datum_a */
	SCMP_CMP_EQ = 4,        /* arg == datum_a */
	SCMP_CMP_GE = 5,        /* arg >= datum_a */
	SCMP_CMP_GT = 6,        /* arg > datum_a */
	SCMP_CMP_MASKED_EQ = 7, /* (arg & datum_a) == datum_b */
	_SCMP_CMP_MAX,
};

typedef uint64_t scmp_datum_t;

/* One condition on a syscall argument. */
struct scmp_arg_cmp {
	unsigned int arg; /* 0 to 5 */
	enum scmp_compare op;
	scmp_datum_t datum_a;
	scmp_datum_t datum_b;
};

/* Conditions: SCMP_A1(SCMP_CMP_EQ, 5) is "argument 1 equals 5". */
#define SCMP_CMP(...) ((struct scmp_arg_cmp){__VA_ARGS__})
#define SCMP_CMP64(...) ((struct scmp_arg_cmp){__VA_ARGS__})
/* The 32-bit forms compare the low 32 bits of the value given (sign extension dropped). */
#define __SCMP_CMP32_OF3(a, o, x) ((struct scmp_arg_cmp){(a), (o), (uint32_t)(x), 0})
#define __SCMP_CMP32_OF4(a, o, x, y) \
	((struct scmp_arg_cmp){(a), (o), (uint32_t)(x), (uint32_t)(y)})
#define __SCMP_PICK4(_1, _2, _3, _4, which, ...) which
#define SCMP_CMP32(...) \
	__SCMP_PICK4(__VA_ARGS__, __SCMP_CMP32_OF4, __SCMP_CMP32_OF3, , )(__VA_ARGS__)

#define SCMP_A0(...) SCMP_CMP(0, __VA_ARGS__)
#define SCMP_A1(...) SCMP_CMP(1, __VA_ARGS__)
#define SCMP_A2(...) SCMP_CMP(2, __VA_ARGS__)
#define SCMP_A3(...) SCMP_CMP(3, __VA_ARGS__)
#define SCMP_A4(...) SCMP_CMP(4, __VA_ARGS__)
#define SCMP_A5(...) SCMP_CMP(5, __VA_ARGS__)
#define SCMP_A0_64(...) SCMP_CMP64(0, __VA_ARGS__)
#define SCMP_A1_64(...) SCMP_CMP64(1, __VA_ARGS__)
#define SCMP_A2_64(...) SCMP_CMP64(2, __VA_ARGS__)
#define SCMP_A3_64(...) SCMP_CMP64(3, __VA_ARGS__)
#define SCMP_A4_64(...) SCMP_CMP64(4, __VA_ARGS__)
#define SCMP_A5_64(...) SCMP_CMP64(5, __VA_ARGS__)
#define SCMP_A0_32(...) SCMP_CMP32(0, __VA_ARGS__)
#define SCMP_A1_32(...) SCMP_CMP32(1, __VA_ARGS__)
#define SCMP_A2_32(...) SCMP_CMP32(2, __VA_ARGS__)
#define SCMP_A3_32(...) SCMP_CMP32(3, __VA_ARGS__)
#define SCMP_A4_32(...) SCMP_CMP32(4, __VA_ARGS__)
#define SCMP_A5_32(...) SCMP_CMP32(5, __VA_ARGS__)

/* Architecture tokens (the kernel's AUDIT_ARCH_* values; x32 has its own). */
#define SCMP_ARCH_NATIVE 0x0u
#define SCMP_ARCH_X86 0x40000003u
#define SCMP_ARCH_X86_64 0xc000003eu
#define SCMP_ARCH_X32 0x4000003eu
#define SCMP_ARCH_ARM 0x40000028u
#define SCMP_ARCH_AARCH64 0xc00000b7u
#define SCMP_ARCH_LOONGARCH64 0xc0000102u
#define SCMP_ARCH_M68K 0x4u
#define SCMP_ARCH_MIPS 0x8u
#define SCMP_ARCH_MIPS64 0x80000008u
#define SCMP_ARCH_MIPS64N32 0xa0000008u
#define SCMP_ARCH_MIPSEL 0x40000008u
#define SCMP_ARCH_MIPSEL64 0xc0000008u
#define SCMP_ARCH_MIPSEL64N32 0xe0000008u
#define SCMP_ARCH_PPC 0x14u
#define SCMP_ARCH_PPC64 0x80000015u
#define SCMP_ARCH_PPC64LE 0xc0000015u
#define SCMP_ARCH_S390 0x16u
#define SCMP_ARCH_S390X 0x80000016u
#define SCMP_ARCH_PARISC 0xfu
#define SCMP_ARCH_PARISC64 0x8000000fu
#define SCMP_ARCH_RISCV64 0xc00000f3u
#define SCMP_ARCH_SHEB 0x2au
#define SCMP_ARCH_SH 0x4000002au

/* Actions. */
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000u
#endif
#define SCMP_ACT_MASK 0xffff0000u
#define SCMP_ACT_KILL_PROCESS 0x80000000u
#define SCMP_ACT_KILL_THREAD 0x00000000u
#define SCMP_ACT_KILL SCMP_ACT_KILL_THREAD
#define SCMP_ACT_TRAP 0x00030000u
#define SCMP_ACT_NOTIFY 0x7fc00000u
#define SCMP_ACT_ERRNO(x) (0x00050000u | ((x) & 0x0000ffffu))
#define SCMP_ACT_TRACE(x) (0x7ff00000u | ((x) & 0x0000ffffu))
#define SCMP_ACT_LOG 0x7ffc0000u
#define SCMP_ACT_ALLOW 0x7fff0000u

/* Syscall numbers of failed lookups. */
#define __NR_SCMP_ERROR -1
#define __NR_SCMP_UNDEF -2

/* The syscall number for rules: the host's number, or a pseudo number the library
 * translates for each architecture of the filter. */
#define SCMP_SYS(x) (__SNR_##x)

/* Library information. */
const struct scmp_version *seccomp_version(void);
unsigned int seccomp_api_get(void);
int seccomp_api_set(unsigned int level);

/* Filters. Functions returning int return 0 or a negative errno. */
scmp_filter_ctx seccomp_init(uint32_t def_action);
int seccomp_reset(scmp_filter_ctx ctx, uint32_t def_action);
void seccomp_release(scmp_filter_ctx ctx);
int seccomp_merge(scmp_filter_ctx ctx_dst, scmp_filter_ctx ctx_src);

/* Architectures. */
uint32_t seccomp_arch_resolve_name(const char *arch_name);
uint32_t seccomp_arch_native(void);
int seccomp_arch_exist(const scmp_filter_ctx ctx, uint32_t arch_token);
int seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch_token);
int seccomp_arch_remove(scmp_filter_ctx ctx, uint32_t arch_token);

/* Loading, attributes. */
int seccomp_load(const scmp_filter_ctx ctx);
int seccomp_attr_get(const scmp_filter_ctx ctx, enum scmp_filter_attr attr,
		     uint32_t *value);
int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value);

/* Syscall names and numbers; the name returned must be freed with free(). */
char *seccomp_syscall_resolve_num_arch(uint32_t arch_token, int num);
int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name);
int seccomp_syscall_resolve_name_rewrite(uint32_t arch_token, const char *name);
int seccomp_syscall_resolve_name(const char *name);

/* Rules: arg_cnt struct scmp_arg_cmp values follow arg_cnt (at most 6). */
int seccomp_syscall_priority(scmp_filter_ctx ctx, int syscall, uint8_t priority);
int seccomp_rule_add(scmp_filter_ctx ctx, uint32_t action, int syscall,
		     unsigned int arg_cnt, ...);
int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array);
int seccomp_rule_add_exact(scmp_filter_ctx ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, ...);
int seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
				 unsigned int arg_cnt,
				 const struct scmp_arg_cmp *arg_array);

/* User notification. */
int seccomp_notify_alloc(struct seccomp_notif **req, struct seccomp_notif_resp **resp);
void seccomp_notify_free(struct seccomp_notif *req, struct seccomp_notif_resp *resp);
int seccomp_notify_receive(int fd, struct seccomp_notif *req);
int seccomp_notify_respond(int fd, struct seccomp_notif_resp *resp);
int seccomp_notify_id_valid(int fd, uint64_t id);
int seccomp_notify_fd(const scmp_filter_ctx ctx);

/* Export: pseudo filter code or BPF to a file descriptor, BPF to memory (*len: the buffer's
 * size on input, the program's on output; -ERANGE when the buffer is too small). */
int seccomp_export_pfc(const scmp_filter_ctx ctx, int fd);
int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd);
int seccomp_export_bpf_mem(const scmp_filter_ctx ctx, void *buf, size_t *len);

/* Transactions (nesting) and precomputation. */
int seccomp_transaction_start(const scmp_filter_ctx ctx);
void seccomp_transaction_reject(const scmp_filter_ctx ctx);
int seccomp_transaction_commit(const scmp_filter_ctx ctx);
int seccomp_precompute(const scmp_filter_ctx ctx);

#ifdef __cplusplus
}
#endif

#include <seccomp-syscalls.h>

#endif /* _SECCOMP_H */
