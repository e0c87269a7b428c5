namespace Bus.Hosting.Messaging;

/// <summary>Where the RabbitMQ broker is. Bound from the <c>RabbitMq</c> configuration section.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    /// <summary>Broker host name. Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port. Default 5682, the port <c>infra/up.sh</c> uses (not 5672, to stay clear of a system-wide broker).</summary>
    public ushort Port { get; set; } = 5682;

    /// <summary>Virtual host. Default <c>bus</c>. Tests use one of their own.</summary>
    public string VirtualHost { get; set; } = "bus";

    /// <summary>User name. Default <c>bus</c>.</summary>
    public string Username { get; set; } = "bus";

    /// <summary>Password. Never logged.</summary>
    public string Password { get; set; } = "bus";

    /// <summary>How many messages each receive endpoint takes from the broker ahead of time. Default 32.</summary>
    public ushort PrefetchCount { get; set; } = 32;

    /// <summary>
    /// <c>Classic</c> (the default) or <c>Quorum</c>: the kind of queue every durable receive endpoint declares. Quorum
    /// queues are for a RabbitMQ cluster (<see cref="ClusterNodes"/>): they keep their messages when a node stops. A queue
    /// keeps the kind it was declared with, so switching an existing virtual host means deleting its queues first.
    /// </summary>
    public RabbitMqQueueType QueueType { get; set; } = RabbitMqQueueType.Classic;

    /// <summary>
    /// The nodes of a RabbitMQ cluster as comma-separated <c>host:port</c> pairs, e.g.
    /// <c>127.0.0.1:5710,127.0.0.1:5711,127.0.0.1:5712</c>. Connections go to the first node that answers, in this order,
    /// and move to the next when theirs goes away. Empty (the default): the single broker at <see cref="Host"/> and
    /// <see cref="Port"/>.
    /// </summary>
    public string ClusterNodes { get; set; } = "";

    /// <summary><see cref="ClusterNodes"/> as a list, without blanks.</summary>
    public IReadOnlyList<string> ClusterNodeList =>
        ClusterNodes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static bool IsHostAndPort(string node) =>
        node.LastIndexOf(':') is var colon and > 0 && ushort.TryParse(node[(colon + 1)..], out var port) && port > 0;
}
