using Bus.Contracts;

namespace Bus.Scheduler.Observability;

/// <summary>One allocation or release, as the scheduler recorded it.</summary>
/// <param name="Resources">What the attempt holds. Null on release: the saga tells the recorder only which attempt ended.</param>
public sealed record AllocationEvent(Guid JobId, int Attempt, string WorkerId, ResourceVector? Resources, DateTimeOffset At);

/// <summary>
/// Told of every allocation and release once it is recorded. The calls come from the placement path, so an
/// implementation must return at once: slow work (Redis reads, publishing) goes to a background loop. What it
/// throws is caught and logged by <see cref="AllocationObservers"/>, never seen by placement.
/// </summary>
public interface IAllocationObserver
{
    void OnAllocated(AllocationEvent allocation);

    void OnReleased(AllocationEvent release);
}
