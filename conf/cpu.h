/*
 * conf/cpu.h: the CPU check every program runs before main(). The build
 * targets -march (meson's -Dmarch, x86-64-v3 by default: AVX2, BMI2, FMA),
 * so any function may hold instructions an older x86-64 lacks; on one, a
 * program would die of SIGILL somewhere. Instead, a constructor compiled for
 * the x86-64 baseline (so that it runs anywhere) checks the features the
 * build assumed, first among the program's own constructors (priority
 * 101), and exits with one line that says what to do.
 *
 * Included once, by each program's main.c (the function is the file's own:
 * a static library's object that nothing references would not be linked).
 * A build for the baseline (-Dmarch=x86-64, or the compiler's default) has
 * nothing to check.
 */
#ifndef BW_CONF_CPU_H
#define BW_CONF_CPU_H

#if defined(__x86_64__) && defined(__AVX2__)
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The features -march=x86-64-v3 adds that the compiler may use anywhere. */
#define CFG_CPU_NEEDS "AVX, AVX2, BMI1, BMI2, FMA (x86-64-v3)"

__attribute__((constructor(101), target("arch=x86-64"))) static void cfg_cpu_check(void)
{
	static const char tail[] = ": this CPU lacks what the build needs: " CFG_CPU_NEEDS
				   ". Rebuild with meson -Dmarch=x86-64 (any x86-64) or "
				   "-Dmarch=native (this CPU).\n";
	const char *name = program_invocation_short_name;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
	    __builtin_cpu_supports("fma"))
		return;
	/* no stdio: nothing of the program has run yet */
	if (write(STDERR_FILENO, name, strlen(name)) < 0 ||
	    write(STDERR_FILENO, tail, sizeof(tail) - 1) < 0)
		_exit(1);
	_exit(1);
}
#endif

#endif
