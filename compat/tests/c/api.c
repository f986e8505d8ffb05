/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * A C user of libseccomp's API, compiled once against our seccomp.h and once against
 * libseccomp's (libseccomp-dev), and run against pure-seccomp's libseccomp.so.2 / .a.
 * Checks the variadic rule_add calls against the _array form (identical programs), the
 * export, resolver and attribute functions, and a load (the denied syscall fails with the
 * rule's errno in a child). Exit status 0 when everything holds. Under a 2.5 header the
 * 2.6 functions are left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>

static int failures;
#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                          \
		}                                                            \
	} while (0)

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define HAVE_2_6 1 /* the header declares the 2.6 functions */
#endif

static unsigned char *program(scmp_filter_ctx ctx, size_t *len)
{
	unsigned char *buf;
#ifdef HAVE_2_6
	*len = 0;
	CHECK(seccomp_export_bpf_mem(ctx, NULL, len) == 0);
	buf = malloc(*len + 1);
	CHECK(seccomp_export_bpf_mem(ctx, buf, len) == 0);
#else
	FILE *f = tmpfile();
	long n;
	CHECK(f != NULL && seccomp_export_bpf(ctx, fileno(f)) == 0);
	n = ftell(f) > 0 ? ftell(f) : lseek(fileno(f), 0, SEEK_END);
	buf = malloc(n + 1);
	CHECK(pread(fileno(f), buf, n, 0) == n);
	*len = (size_t)n;
	fclose(f);
#endif
	return buf;
}

/* The same rules through the variadic calls (ctx a) and the array calls (ctx b). */
static void variadic_equals_array(void)
{
	struct scmp_arg_cmp c[6] = {
		SCMP_A0(SCMP_CMP_EQ, 1), SCMP_A1(SCMP_CMP_NE, 2),
		SCMP_A2(SCMP_CMP_LT, 3), SCMP_A3(SCMP_CMP_MASKED_EQ, 0xf0, 0x40),
		SCMP_A4_64(SCMP_CMP_GE, 5), SCMP_A5_32(SCMP_CMP_LE, -1),
	};
	scmp_filter_ctx a = seccomp_init(SCMP_ACT_ALLOW);
	scmp_filter_ctx b = seccomp_init(SCMP_ACT_ALLOW);
	size_t la, lb;
	unsigned char *pa, *pb;
	CHECK(a && b);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(1), SCMP_SYS(read), 0) == 0);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(2), SCMP_SYS(write), 1, c[0]) == 0);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(3), SCMP_SYS(openat), 2, c[0], c[1]) == 0);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(4), SCMP_SYS(mmap), 3, c[0], c[1], c[2]) == 0);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(5), SCMP_SYS(ioctl), 4, c[0], c[1], c[2], c[3]) == 0);
	CHECK(seccomp_rule_add(a, SCMP_ACT_ERRNO(6), SCMP_SYS(futex), 5, c[0], c[1], c[2], c[3], c[4]) == 0);
	CHECK(seccomp_rule_add_exact(a, SCMP_ACT_TRAP, SCMP_SYS(clone), 6, c[0], c[1], c[2], c[3], c[4], c[5]) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(1), SCMP_SYS(read), 0, NULL) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(2), SCMP_SYS(write), 1, c) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(3), SCMP_SYS(openat), 2, c) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(4), SCMP_SYS(mmap), 3, c) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(5), SCMP_SYS(ioctl), 4, c) == 0);
	CHECK(seccomp_rule_add_array(b, SCMP_ACT_ERRNO(6), SCMP_SYS(futex), 5, c) == 0);
	CHECK(seccomp_rule_add_exact_array(b, SCMP_ACT_TRAP, SCMP_SYS(clone), 6, c) == 0);
	pa = program(a, &la);
	pb = program(b, &lb);
	CHECK(la == lb && la > 0 && memcmp(pa, pb, la) == 0);
	free(pa);
	free(pb);
	seccomp_release(a);
	seccomp_release(b);
}

static void errors_and_lookups(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	uint32_t v = 0;
	char *name;
#ifdef HAVE_2_6
	size_t len = 1;
	unsigned char byte;
#endif
	CHECK(seccomp_init(0x12345678) == NULL);
	CHECK(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 0) == -EACCES);
	CHECK(seccomp_rule_add(ctx, SCMP_ACT_KILL, SCMP_SYS(read), 7) == -EINVAL);
	CHECK(seccomp_rule_add(NULL, SCMP_ACT_KILL, SCMP_SYS(read), 0) == -EINVAL);
	CHECK(seccomp_attr_get(ctx, (enum scmp_filter_attr)1000, &v) == -EINVAL);
	CHECK(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &v) == 0 && v == 1);
	CHECK(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0);
	CHECK(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_OPTIMIZE, &v) == 0 && v == 2);
	CHECK(seccomp_arch_exist(ctx, SCMP_ARCH_NATIVE) == 0);
	CHECK(seccomp_arch_add(ctx, seccomp_arch_native()) == -EEXIST);
	CHECK(seccomp_arch_resolve_name("aarch64") == SCMP_ARCH_AARCH64);
	CHECK(seccomp_syscall_resolve_name("read") == __NR_read);
	CHECK(seccomp_syscall_resolve_name("nope") == __NR_SCMP_ERROR);
	CHECK(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "socket") == -101);
	CHECK(seccomp_syscall_resolve_name_rewrite(SCMP_ARCH_X86, "socket") == 102);
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, 257);
	CHECK(name && strcmp(name, "openat") == 0);
	free(name);
	CHECK(seccomp_version()->major == 2 && seccomp_version()->minor == 6);
	CHECK(seccomp_api_get() >= 1);
#ifdef HAVE_2_6
	CHECK(seccomp_export_bpf_mem(ctx, &byte, &len) == -ERANGE && len > 1);
	CHECK(seccomp_transaction_start(ctx) == 0);
	CHECK(seccomp_rule_add(ctx, SCMP_ACT_KILL, SCMP_SYS(read), 0) == 0);
	seccomp_transaction_reject(ctx);
	CHECK(seccomp_precompute(ctx) == 0);
#endif
	seccomp_release(ctx);
}

static void load_in_child(void)
{
	pid_t pid = fork();
	int status = 0;
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getppid), 0) ||
		    seccomp_load(ctx))
			_exit(10);
		seccomp_release(ctx);
		_exit(syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 11);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(getppid() > 0);
}

int main(void)
{
	variadic_equals_array();
	errors_and_lookups();
	load_in_child();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("api.c: all checks passed\n");
	return 0;
}
