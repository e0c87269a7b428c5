namespace Bus.Infrastructure.Messaging;

/// <summary>The queues messages are sent to by name. Events are published and need no name.</summary>
public static class QueueNames
{
    /// <summary>The job saga's queue, where the gateway sends <c>SubmitJob</c>.</summary>
    public const string JobSaga = "job-state";

    /// <summary>Each worker's own queue, where the scheduler sends <c>RunJob</c> for that worker.</summary>
    public static string Worker(string workerId) => $"worker-{workerId}";

    public static Uri JobSagaAddress { get; } = new($"queue:{JobSaga}");

    public static Uri WorkerAddress(string workerId) => new($"queue:{Worker(workerId)}");
}
