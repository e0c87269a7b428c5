using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// A finished job holds nothing: releases every allocation of the job still unreleased. An earlier try of the
/// message being handled may have placed an attempt (a reservation and its row) before its saga write lost a race, to
/// a cancel say; the retry then finds the job finished, and without this the reservation would be held for ever.
/// </summary>
public sealed class ReleaseLeftoversActivity(IAllocationRecorder recorder) : JobActivity("release-leftovers")
{
    // The attempt that just ended, when this message ended one, is released by the saga's write (JobState.NewReleases).
    protected override Task Run(BehaviorContext<JobState> context) =>
        recorder.ReleasedAll(context.Saga.CorrelationId, [.. context.Saga.NewReleases.Select(r => r.Attempt)]);
}
