using MassTransit;
using MassTransit.RabbitMqTransport.Configuration;

namespace Bus.Hosting.Messaging;

/// <summary>
/// Makes every durable receive endpoint a quorum queue when <see cref="RabbitMqOptions.QueueType"/> says so: the
/// endpoints from ConfigureEndpoints, the worker's own queue and the endpoints connected at run time alike, because
/// the transport tells this observer about each of them before it declares the queue. The bus's own reply queue is
/// temporary (auto-delete, not durable), which a quorum queue cannot be, so it stays classic. Error and skipped
/// queues copy their endpoint's queue arguments, so they become quorum queues too.
/// </summary>
public sealed class QueueTypeObserver(RabbitMqQueueType queueType) : IEndpointConfigurationObserver
{
    public void EndpointConfigured<T>(T configurator) where T : IReceiveEndpointConfigurator
    {
        if (queueType != RabbitMqQueueType.Quorum)
            return;
        if (configurator is IRabbitMqReceiveEndpointConfiguration { Settings: { Durable: true, AutoDelete: false } }
            and IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQuorumQueue();
    }
}
