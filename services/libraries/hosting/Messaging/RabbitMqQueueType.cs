namespace Bus.Hosting.Messaging;

/// <summary>The kind of queue every durable receive endpoint declares.</summary>
public enum RabbitMqQueueType
{
    /// <summary>A classic queue: lives on the one node that declared it. Right for a single broker.</summary>
    Classic,

    /// <summary>
    /// A quorum queue: replicated by Raft over the cluster's nodes, so it survives the loss of a minority of them. Costs
    /// throughput (every message is written to a majority before it is confirmed); see docs/benchmarks.md.
    /// </summary>
    Quorum,
}
