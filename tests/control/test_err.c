/*
 * tests/control/test_err.c: the control modules' error list: every code
 * has its own text, lies in control's range, and stands for the errno the
 * upstream module reports for it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "control/err.h"

Test(err, every_code_has_its_own_text_in_controls_range)
{
	static const int codes[] = {
#define CODE(name, value, text) name,
		CTL_ERRORS(CODE)
#undef CODE
	};
	size_t n = sizeof(codes) / sizeof(codes[0]);

	for (size_t i = 0; i < n; i++) {
		cr_assert(codes[i] <= -5001 && codes[i] > -6000, "%d", codes[i]);
		cr_assert_str_neq(ctl_strerror(codes[i]), "unknown control error");
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(ctl_strerror(codes[i]), ctl_strerror(codes[j]));
	}
	cr_assert_str_eq(ctl_strerror(0), "success");
	cr_assert_str_eq(ctl_strerror(-1), "unknown control error");
}

Test(err, codes_stand_for_an_errno_where_one_is_needed)
{
	errno = ECONNREFUSED;
	cr_assert_eq(ctl_err_errno(CTL_E_SYSTEM), ECONNREFUSED, "the kernel's own reason");
	cr_assert_eq(ctl_err_errno(CTL_E_NOMEM), ENOMEM);
	cr_assert_eq(ctl_err_errno(CTL_E_INVAL), EINVAL);
	cr_assert_eq(ctl_err_errno(CTL_E_FULL), EIO);
}
