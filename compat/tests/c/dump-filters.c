/*
 * LD_PRELOAD shim: wraps seccomp_load() to write each filter, as seccomp_export_bpf() gives
 * it, to $SECCOMP_DUMP_DIR/PID-N.bpf before loading it with the real seccomp_load() of
 * whichever libseccomp.so.2 the program resolved (ours or the C library). Used by
 * distro-binaries.sh to compare the filters unmodified programs build with each.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <seccomp.h>
int seccomp_load(const scmp_filter_ctx ctx)
{
	static int (*real)(const scmp_filter_ctx);
	static int count;
	const char *dir = getenv("SECCOMP_DUMP_DIR");
	if (dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%d-%d.bpf", dir, (int)getpid(), count++);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			seccomp_export_bpf(ctx, fd);
			close(fd);
		}
	}
	if (!real)
		real = (int (*)(const scmp_filter_ctx))dlsym(RTLD_NEXT, "seccomp_load");
	return real(ctx);
}
