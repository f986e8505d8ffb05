/*
 * LD_PRELOAD shim: wraps seccomp_load() to write each filter, as seccomp_export_bpf() gives
 * it, to $SECCOMP_DUMP_DIR/PID-N.bpf before loading it with the real seccomp_load() of
 * whichever libseccomp.so.2 the program resolved (ours or the C library). With
 * $SECCOMP_DUMP_EXPORTS set, it also keeps each filter the program exports itself (a
 * container runtime such as crun exports the program and loads it with seccomp(2)). Used by
 * distro-binaries.sh to compare the filters unmodified programs build with each.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <seccomp.h>

static int real_export(const scmp_filter_ctx ctx, int fd)
{
	static int (*real)(const scmp_filter_ctx, int);
	if (!real)
		real = (int (*)(const scmp_filter_ctx, int))dlsym(RTLD_NEXT, "seccomp_export_bpf");
	return real(ctx, fd);
}

/* Writes the filter to the next PID-N.bpf of $SECCOMP_DUMP_DIR, if set. */
static void dump(const scmp_filter_ctx ctx)
{
	static int count;
	const char *dir = getenv("SECCOMP_DUMP_DIR");
	if (dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%d-%d.bpf", dir, (int)getpid(), count++);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			real_export(ctx, fd);
			close(fd);
		}
	}
}

int seccomp_load(const scmp_filter_ctx ctx)
{
	static int (*real)(const scmp_filter_ctx);
	dump(ctx);
	if (!real)
		real = (int (*)(const scmp_filter_ctx))dlsym(RTLD_NEXT, "seccomp_load");
	return real(ctx);
}

int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
{
	if (getenv("SECCOMP_DUMP_EXPORTS"))
		dump(ctx);
	return real_export(ctx, fd);
}
