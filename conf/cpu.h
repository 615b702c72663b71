/*
 * conf/cpu.h: the CPU check every program runs before anything else. The
 * build targets -march (meson's -Dmarch, x86-64-v3 by default: AVX2, BMI2,
 * FMA, MOVBE, LZCNT, F16C), so any function may hold instructions an older
 * x86-64 lacks; on one, a program would die of SIGILL somewhere. Instead a
 * function compiled for the x86-64 baseline (so that it runs anywhere)
 * checks the level the build assumed and exits with one line that says
 * what to do. It is in .preinit_array: the dynamic linker runs it before
 * any shared library's constructor (DPDK's, libcrypto's) and before the
 * program's own. Names from argv[0]; no stdio, no allocation.
 *
 * What it checks: with GCC the whole level the predefined macros say the
 * build has (x86-64-v4 with AVX-512F, else x86-64-v3); with clang (the
 * fuzzing build only), whose __builtin_cpu_supports() knows no levels, the
 * features it can name (AVX, AVX2, BMI1, BMI2, FMA, AVX-512F). BW_MARCH
 * (meson: the -march given) goes into the line.
 *
 * Included once, by each program's main.c (the function is the file's own:
 * an object of a static library that nothing references would not be
 * linked). A build for the baseline (-Dmarch=x86-64, or the compiler's
 * default) has nothing to check.
 */
#ifndef BW_CONF_CPU_H
#define BW_CONF_CPU_H

#if defined(__x86_64__) && defined(__AVX2__)
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#ifndef BW_MARCH
#define BW_MARCH "x86-64-v3"
#endif

#if defined(__clang__)
#define CFG_CPU_CHECK_ATTRS target("arch=x86-64"), noinline, used
#else
#define CFG_CPU_CHECK_ATTRS target("arch=x86-64"), noinline, noclone, used
#endif

__attribute__((CFG_CPU_CHECK_ATTRS)) static void cfg_cpu_check(int argc, char **argv, char **envp)
{
	static const char tail[] = ": this CPU lacks what the build's -march=" BW_MARCH
				   " needs (x86-64-v3: AVX2, BMI2, FMA, MOVBE...). Rebuild with "
				   "meson -Dmarch=x86-64 (any x86-64) or -Dmarch=native (this "
				   "CPU).\n";
	const char *name = argc > 0 && argv[0] ? argv[0] : "bailiwick";
	const char *slash = strrchr(name, '/');
	bool ok;

	(void)envp;
	if (slash)
		name = slash + 1;
	__builtin_cpu_init();
#if defined(__clang__)
	ok = __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
	     __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
	     __builtin_cpu_supports("fma");
#if defined(__AVX512F__)
	ok = ok && __builtin_cpu_supports("avx512f");
#endif
#elif defined(__AVX512F__)
	ok = __builtin_cpu_supports("x86-64-v4");
#else
	ok = __builtin_cpu_supports("x86-64-v3");
#endif
	if (ok)
		return;
	/* (what a failed write could change: nothing) */
	if (write(STDERR_FILENO, name, strlen(name)) >= 0)
		(void)!write(STDERR_FILENO, tail, sizeof(tail) - 1);
	_exit(1);
}

__attribute__((section(".preinit_array"), used)) static void (*const cfg_cpu_check_at_start)(
	int, char **, char **) = cfg_cpu_check;
#endif

#endif
