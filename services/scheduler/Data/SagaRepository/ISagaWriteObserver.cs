namespace Bus.Scheduler.Data.SagaRepository;

/// <summary>
/// Told after each saga write the repository committed (an insert, an update, a delete), never for one that failed.
/// Called on the writing message's path, after the commit: an implementation must return at once and never throw.
/// </summary>
public interface ISagaWriteObserver
{
    void Committed();
}
