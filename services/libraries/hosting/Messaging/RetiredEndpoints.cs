using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Bus.Hosting.Messaging;

/// <summary>
/// Deletes the queue and exchange of receive endpoints a service no longer has, on a broker that ran an earlier
/// version. MassTransit declares queues, exchanges and their bindings but never removes any, so a retired endpoint's
/// queue would stay bound to the messages it used to take and fill, with nobody to empty it. Its <c>_error</c> and
/// <c>_skipped</c> queues are kept for whoever wants to read them. It runs once at start, in the background, and tries
/// again every few seconds while the broker does not answer. An instance of an earlier version that still runs
/// declares its endpoint again; the next start of a current one deletes it again.
/// </summary>
public sealed class RetiredEndpoints(IReadOnlyList<string> names, IOptions<RabbitMqOptions> options, ILogger<RetiredEndpoints> logger)
    : BackgroundService
{
    static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Delete(stoppingToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not delete the retired endpoints {Names} yet: {Error}", names, e.Message);
            }
            await Task.Delay(RetryInterval, stoppingToken);
        }
    }

    async Task Delete(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var factory = new ConnectionFactory
        {
            VirtualHost = settings.VirtualHost,
            UserName = settings.Username,
            Password = settings.Password,
        };
        var nodes = settings.ClusterNodeList.Count > 0
            ? settings.ClusterNodeList.Select(AmqpTcpEndpoint.Parse)
            : [new AmqpTcpEndpoint(settings.Host, settings.Port)];
        await using var connection = await factory.CreateConnectionAsync(nodes.ToList(), "retired-endpoints", cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var name in names)
        {
            // Both are no-ops for a name the broker does not have. Deleting the exchange drops every binding to it.
            await channel.ExchangeDeleteAsync(name, ifUnused: false, cancellationToken: cancellationToken);
            var dropped = await channel.QueueDeleteAsync(name, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken);
            logger.LogInformation("Retired endpoint {Name} deleted, if it was there ({Messages} messages dropped)", name, dropped);
        }
    }
}

public static class RetiredEndpointExtensions
{
    /// <summary>
    /// Deletes these receive endpoints (queue and exchange of that name) from the broker at start: endpoints an earlier
    /// version of this service had. Each name says in its caller why it was retired.
    /// </summary>
    public static IServiceCollection AddRetiredEndpoints(this IServiceCollection services, params string[] names) =>
        services.AddHostedService(sp => new RetiredEndpoints(names, sp.GetRequiredService<IOptions<RabbitMqOptions>>(),
            sp.GetRequiredService<ILogger<RetiredEndpoints>>()));
}
