dnl AX_CHECK_COMPILE_FLAG_TLSD(FLAG): append FLAG to TLSD_CFLAGS when the compiler accepts it.
AC_DEFUN([AX_CHECK_COMPILE_FLAG_TLSD], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  tlsd_save_CFLAGS="$CFLAGS"
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); TLSD_CFLAGS="$TLSD_CFLAGS $1"],
    [AC_MSG_RESULT([no])])
  CFLAGS="$tlsd_save_CFLAGS"
])
