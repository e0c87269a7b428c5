namespace Bus.Hosting.Messaging;

/// <summary>The queues messages are sent to by name. Events are published and need no name.</summary>
public static class QueueNames
{
    /// <summary>The job saga's queue, where the gateway sends <c>SubmitJob</c>.</summary>
    public const string JobSaga = "job-state";

    /// <summary>Where clients send <c>SubmitJob</c> over the bus: the scheduler validates and claims it, then passes it on
    /// to the saga.</summary>
    public const string JobSubmissions = "job-submissions";

    /// <summary>
    /// The schedulers' shared queue for <c>ExplainPlacement</c> requests from the gateways (competing consumers: any
    /// scheduler answers, from the snapshot it places with).
    /// </summary>
    public const string ExplainPlacement = "explain-placement";

    /// <summary>Each worker's own queue, where the scheduler sends <c>RunJob</c> for that worker.</summary>
    public static string Worker(string workerId) => $"worker-{workerId}";

    /// <summary>
    /// Set when the bus is configured with quorum queues. A <c>queue:</c> address makes the sender declare the queue, as
    /// a classic queue, and RabbitMQ refuses that declaration for a queue that is a quorum queue. So with quorum queues
    /// senders address the queue's exchange instead, which the receiving endpoint declared and bound to its queue.
    /// </summary>
    internal static bool SendToExchanges { get; set; }

    public static Uri JobSagaAddress => Address(JobSaga);

    public static Uri JobSubmissionsAddress => Address(JobSubmissions);
    public static Uri ExplainPlacementAddress => Address(ExplainPlacement);

    public static Uri WorkerAddress(string workerId) => Address(Worker(workerId));

    static Uri Address(string queue) => new(SendToExchanges ? $"exchange:{queue}" : $"queue:{queue}");
}
