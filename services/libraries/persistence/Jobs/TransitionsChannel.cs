namespace Bus.Persistence.Jobs;

/// <summary>
/// The <c>NOTIFY</c> channel that says <c>job_transitions</c> has new rows: sent by the scheduler's
/// <c>TransitionsNotifier</c> after its saga writes commit, listened to by each gateway's <c>JobEventFeed</c>. A wake-up
/// only: its payload is empty, and the listeners read the table for what is new.
/// </summary>
public static class TransitionsChannel
{
    public const string Name = "job_transitions";
}
