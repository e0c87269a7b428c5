using Microsoft.Extensions.Logging;

namespace Bus.Scheduler.Observability;

/// <summary>
/// Tells every registered <see cref="IAllocationObserver"/> of a change. An observer that throws is logged and
/// skipped, so a broken observer never fails a placement or keeps the others from hearing of it.
/// </summary>
public sealed class AllocationObservers(IEnumerable<IAllocationObserver> observers, ILogger<AllocationObservers> logger)
{
    readonly IAllocationObserver[] _observers = observers.ToArray();

    public void Allocated(AllocationEvent allocation) => Notify(allocation, static (o, e) => o.OnAllocated(e));

    public void Released(AllocationEvent release) => Notify(release, static (o, e) => o.OnReleased(e));

    void Notify(AllocationEvent change, Action<IAllocationObserver, AllocationEvent> call)
    {
        foreach (var observer in _observers)
        {
            try
            {
                call(observer, change);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Allocation observer {Observer} failed on job {JobId} attempt {Attempt}",
                    observer.GetType().Name, change.JobId, change.Attempt);
            }
        }
    }
}
