/*
 * resolve-name ABI NAME: prints the number that the libseccomp it runs with gives the
 * syscall NAME on ABI (seccomp_arch_resolve_name, then seccomp_syscall_resolve_name_arch),
 * or "none" where that library does not know the call. With no arguments, prints the
 * library's version. Exit 2: bad usage, or an ABI the library does not know.
 *
 * distro-binaries.sh builds it against the system's libseccomp.so.2 to tell a difference
 * of verdicts that comes from that library's older syscall table (a call it does not know,
 * or numbers otherwise) from one that comes from the filter's code.
 */
#include <stdio.h>
#include <seccomp.h>

int main(int argc, char **argv)
{
	if (argc == 1) {
		const struct scmp_version *v = seccomp_version();
		printf("%u.%u.%u\n", v->major, v->minor, v->micro);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: resolve-name [ABI NAME]\n");
		return 2;
	}
	uint32_t arch = seccomp_arch_resolve_name(argv[1]);
	if (arch == 0) {
		fprintf(stderr, "resolve-name: libseccomp knows no ABI %s\n", argv[1]);
		return 2;
	}
	int nr = seccomp_syscall_resolve_name_arch(arch, argv[2]);
	if (nr == __NR_SCMP_ERROR)
		printf("none\n");
	else
		printf("%d\n", nr);
	return 0;
}
