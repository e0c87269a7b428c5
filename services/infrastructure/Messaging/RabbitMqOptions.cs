namespace Bus.Infrastructure.Messaging;

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
}
