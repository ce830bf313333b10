/* training-pace.h: how fast a run is taking its steps now, and how long it
 * has left, for the front ends' "img/s" and "left".
 *
 * The rate is that of the recent steps, not the average since the run
 * began: a machine that gets busier or quieter halfway through a run
 * changes what is left, and an average since the start would take most of
 * the run to say so (a run that shared the machine for its first hour and
 * then had it alone showed 180 images a second while it stepped at 490).
 * The steps' seconds are averaged over about the last WINDOW_S of steps
 * (training-pace.c); pauses and evaluations are not steps.
 *
 * The time left is the steps left at that rate plus the evaluations still
 * to come, each as long as the last one measured; before one is measured,
 * as long as the guess of training-estimate.h, in steps (an evaluation's
 * share of a busy machine grows as its steps' does). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double step_s;        /* seconds a step, averaged over the recent ones */
  double seen_s;        /* seconds of steps seen so far, up to the window */
  gint64 steps;         /* steps seen */
  double evaluation_s;  /* the last evaluation's seconds; NAN before one */
  double evaluation_steps;  /* before one: its guessed length in steps */
} TrainingPace;

void training_pace_init (TrainingPace *pace);

/* One step took seconds (its own work: not a pause before it). */
void training_pace_add_step (TrainingPace *pace, double seconds);

/* Before an evaluation is measured, one is taken to last as long as steps
 * steps at the recent pace. */
void training_pace_guess_evaluation (TrainingPace *pace, double steps);

/* One evaluation (with the checkpoint saved before it) took seconds. */
void training_pace_add_evaluation (TrainingPace *pace, double seconds);

/* Training images a second at the recent steps' pace, batch images a step;
 * NAN before the first step. */
double training_pace_images_per_second (const TrainingPace *pace, int batch);

/* Seconds to the run's end: steps_left steps at the recent pace and
 * evaluations_left evaluations as long as the last one (or the guess);
 * NAN before the first step. */
double training_pace_seconds_left (const TrainingPace *pace,
                                   gint64 steps_left, int evaluations_left);

G_END_DECLS
