using Bus.Scheduler.Observability;

namespace Bus.Scheduler.Placement;

/// <summary>
/// A released attempt freed room on its worker: pokes this instance's pending-job dispatcher, from the saga's own
/// handling of the attempt's end, after its Redis reservation was given back. No message of its own is needed for it.
/// While Redis is down nothing is given back and the snapshot counts the rows, which the saga's write releases a moment
/// after the poke: a pass that still sees the room taken leaves the job to the periodic pass
/// (<c>Scheduler:PendingRetryInterval</c>). Poking again after every commit would double the event passes.
/// </summary>
public sealed class ReleasePokesDispatcher(PendingJobDispatcher dispatcher) : IAllocationObserver
{
    public void OnAllocated(AllocationEvent allocation) { }

    public void OnReleased(AllocationEvent release) => dispatcher.Poke();
}
