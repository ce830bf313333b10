/* training-pace.c: the recent steps' pace and the time left
 * (training-pace.h). */
#define G_LOG_DOMAIN "instdisc-method"

#include "training-pace.h"

#include <math.h>

/* The seconds of steps the pace is averaged over. Long enough that one
 * slow step (a checkpoint's disk write, a page fault storm) moves it by
 * little; short enough that a change of load shows within a minute. */
#define WINDOW_S 20.0

void
training_pace_init (TrainingPace *pace)
{
  *pace = (TrainingPace) { .step_s = NAN, .evaluation_s = NAN };
}

void
training_pace_add_step (TrainingPace *pace, double seconds)
{
  seconds = MAX (seconds, 0.0);
  pace->steps++;
  if (pace->seen_s < WINDOW_S)
    {
      /* the first window: the plain mean of the steps so far */
      pace->seen_s += seconds;
      pace->step_s = pace->seen_s / pace->steps;
      return;
    }
  /* then an exponential average whose memory is WINDOW_S of steps,
   * whatever a step's length: a step's weight is its share of the window */
  double weight = MIN (seconds / WINDOW_S, 1.0);
  pace->step_s += weight * (seconds - pace->step_s);
}

void
training_pace_guess_evaluation (TrainingPace *pace, double steps)
{
  pace->evaluation_steps = MAX (steps, 0.0);
}

void
training_pace_add_evaluation (TrainingPace *pace, double seconds)
{
  pace->evaluation_s = MAX (seconds, 0.0);
}

double
training_pace_images_per_second (const TrainingPace *pace, int batch)
{
  if (pace->steps == 0)
    return NAN;
  return batch / MAX (pace->step_s, 1e-9);
}

double
training_pace_seconds_left (const TrainingPace *pace, gint64 steps_left,
                            int evaluations_left)
{
  if (pace->steps == 0)
    return NAN;
  double seconds = MAX (steps_left, 0) * pace->step_s;
  double evaluation_s = isfinite (pace->evaluation_s)
                            ? pace->evaluation_s
                            : pace->evaluation_steps * pace->step_s;
  seconds += MAX (evaluations_left, 0) * evaluation_s;
  return seconds;
}
