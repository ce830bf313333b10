/* test-blas-kernels.c: the choice of OpenBLAS's kernels (blas-kernels.h):
 * the decision on its own, and the run again in a child process, which
 * must end on kernels at least as wide as the processor's unless the user
 * chose them. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "blas-kernels.h"

static char **test_argv;   /* main's, for the child's run again */

static void
test_levels (void)
{
  g_assert_cmpint (blas_kernels_level ("Prescott"), ==, 0);
  g_assert_cmpint (blas_kernels_level ("Nehalem"), ==, 0);
  g_assert_cmpint (blas_kernels_level ("Sandybridge"), ==, 0);
  g_assert_cmpint (blas_kernels_level ("Haswell"), ==, 1);
  g_assert_cmpint (blas_kernels_level ("haswell"), ==, 1);
  g_assert_cmpint (blas_kernels_level ("Zen"), ==, 1);
  g_assert_cmpint (blas_kernels_level ("SkylakeX"), ==, 2);
  g_assert_cmpint (blas_kernels_level ("COOPERLAKE"), ==, 2);
  g_assert_cmpint (blas_kernels_level ("SapphireRapids"), ==, 2);
  g_assert_cmpint (blas_kernels_level (""), ==, 0);
  g_assert_null (blas_kernels_vectors ("Prescott"));
  g_assert_cmpstr (blas_kernels_vectors ("Zen"), ==, "AVX2");
  g_assert_cmpstr (blas_kernels_vectors ("cooperlake"), ==, "AVX-512");
  g_assert_cmpint (blas_kernels_level (NULL), ==, 0);
}

static void
test_replacement (void)
{
  /* OpenBLAS did not know the processor */
  g_assert_cmpstr (blas_kernels_replacement (NULL, "Prescott", "SkylakeX"),
                   ==, "SkylakeX");
  g_assert_cmpstr (blas_kernels_replacement (NULL, "Prescott", "Haswell"),
                   ==, "Haswell");
  g_assert_cmpstr (blas_kernels_replacement (NULL, NULL, "Haswell"),
                   ==, "Haswell");
  /* it knew it, but used AVX2 where there is AVX-512 (Zen 4 in 0.3.21) */
  g_assert_cmpstr (blas_kernels_replacement (NULL, "Zen", "SkylakeX"),
                   ==, "SkylakeX");
  /* kernels as wide as the processor's are OpenBLAS's to choose */
  g_assert_null (blas_kernels_replacement (NULL, "Zen", "Haswell"));
  g_assert_null (blas_kernels_replacement (NULL, "Haswell", "Haswell"));
  g_assert_null (blas_kernels_replacement (NULL, "Cooperlake", "SkylakeX"));
  g_assert_null (blas_kernels_replacement (NULL, "SkylakeX", "Haswell"));
  /* a processor without AVX2 and FMA: nothing better to offer */
  g_assert_null (blas_kernels_replacement (NULL, "Prescott", NULL));
  /* the variable set, by the user or by the run before: never changed */
  g_assert_null (blas_kernels_replacement ("Prescott", "Prescott",
                                           "SkylakeX"));
  g_assert_null (blas_kernels_replacement ("Haswell", "Haswell",
                                           "SkylakeX"));
}

static void
test_held_back (void)
{
  /* a user's narrower kernels are named, with the ones they keep away */
  g_assert_cmpstr (blas_kernels_held_back ("Haswell", "SkylakeX"), ==,
                   "SkylakeX");
  g_assert_cmpstr (blas_kernels_held_back ("prescott", "Haswell"), ==,
                   "Haswell");
  g_assert_cmpstr (blas_kernels_held_back ("NoSuchCore", "Haswell"), ==,
                   "Haswell");
  /* as wide or wider: nothing to say */
  g_assert_null (blas_kernels_held_back ("SkylakeX", "SkylakeX"));
  g_assert_null (blas_kernels_held_back ("Cooperlake", "SkylakeX"));
  g_assert_null (blas_kernels_held_back ("Zen", "Haswell"));
  g_assert_null (blas_kernels_held_back ("SkylakeX", "Haswell"));
  /* unset, or a processor with nothing better than the generic kernels */
  g_assert_null (blas_kernels_held_back (NULL, "SkylakeX"));
  g_assert_null (blas_kernels_held_back ("Prescott", NULL));
}

/* The child of the two tests below: chooses (and so perhaps runs again,
 * with the same arguments, into this same test), then says what it runs. */
static void
choose_and_report (void)
{
  blas_kernels_choose (test_argv);
  const char *current = blas_kernels_current ();
  /* the process's name after a run again: the program's, not "exe" */
  g_autofree char *comm = NULL;
  g_file_get_contents ("/proc/self/comm", &comm, NULL, NULL);
  g_print ("core=%s\ncomm=%s", current, comm ? comm : "?\n");
  if (!g_getenv ("INSTDISC_TEST_USER_CORETYPE"))
    g_assert_cmpint (blas_kernels_level (current), >=,
                     blas_kernels_level (blas_kernels_preferred ()));
}

/* Runs this test's child with OPENBLAS_CORETYPE set to value (NULL: unset),
 * and restores the variable. */
static void
trap_child_with_coretype (const char *value)
{
  g_autofree char *saved = g_strdup (g_getenv ("OPENBLAS_CORETYPE"));
  if (value)
    {
      g_setenv ("OPENBLAS_CORETYPE", value, TRUE);
      g_setenv ("INSTDISC_TEST_USER_CORETYPE", "1", TRUE);
    }
  else
    g_unsetenv ("OPENBLAS_CORETYPE");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("INSTDISC_TEST_USER_CORETYPE");
  if (saved)
    g_setenv ("OPENBLAS_CORETYPE", saved, TRUE);
  else
    g_unsetenv ("OPENBLAS_CORETYPE");
}

/* Unset, the child ends on kernels as wide as the processor's (this test
 * program itself does not choose: it keeps whatever OpenBLAS loaded). */
static void
test_run_again (void)
{
  if (g_test_subprocess ())
    {
      choose_and_report ();
      return;
    }
  trap_child_with_coretype (NULL);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("core=*\ncomm=test-engine-*\n");
  const char *preferred = blas_kernels_preferred ();
  g_test_message ("this processor's kernels: %s; OpenBLAS's own choice: %s",
                  preferred ? preferred : "(none better than OpenBLAS's)",
                  blas_kernels_current ());
  if (preferred)
    g_test_trap_assert_stdout_unmatched ("core=Prescott\n");
}

/* Set by the user, the variable is kept, even to slower kernels. */
static void
test_user_choice_kept (void)
{
  if (g_test_subprocess ())
    {
      choose_and_report ();
      return;
    }
  trap_child_with_coretype ("Prescott");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("core=Prescott\n*");
}

int
main (int argc, char **argv)
{
  /* g_test_init takes its own options out of argv: the child's run again
   * needs them all */
  test_argv = g_strdupv (argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/blas-kernels/levels", test_levels);
  g_test_add_func ("/engine/blas-kernels/replacement", test_replacement);
  g_test_add_func ("/engine/blas-kernels/held-back", test_held_back);
  g_test_add_func ("/engine/blas-kernels/run-again", test_run_again);
  g_test_add_func ("/engine/blas-kernels/user-choice-kept",
                   test_user_choice_kept);
  return g_test_run ();
}
