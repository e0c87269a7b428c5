using Bus.Hosting.Telemetry;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bus.Hosting.Messaging;

public static class BusExtensions
{
    /// <summary>
    /// Adds MassTransit on RabbitMQ with the consumers, sagas and endpoints the caller registers.
    /// Nothing here uses delayed delivery: Debian's RabbitMQ has no delayed-exchange plugin.
    /// </summary>
    public static IHostApplicationBuilder AddBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? register = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configure = null)
    {
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Host), "RabbitMq:Host is required")
            .Validate(o => Enum.IsDefined(o.QueueType), "RabbitMq:QueueType must be Classic or Quorum")
            .Validate(o => o.ClusterNodeList.All(RabbitMqOptions.IsHostAndPort),
                "RabbitMq:ClusterNodes must be comma-separated host:port pairs, e.g. 127.0.0.1:5710,127.0.0.1:5711")
            .ValidateOnStart();
        builder.Services.AddOptions<RideThroughOptions>()
            .BindConfiguration(RideThroughOptions.Section)
            .Validate(o => o.OutageWindow > TimeSpan.Zero && o.MaxRetryInterval > TimeSpan.Zero && o.KillSwitchRestart >= TimeSpan.FromSeconds(1),
                "RideThrough: the window and the retry interval must be positive, the kill switch restart at least 1 s")
            .Validate(o => o.RestartStoppedEndpointAfter > o.KillSwitchRestart,
                "RideThrough:RestartStoppedEndpointAfter must be longer than RideThrough:KillSwitchRestart")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EndpointWatchdog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EndpointWatchdog>());
        builder.Services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<EndpointWatchdog>());
        builder.Services.AddHealthChecks().AddCheck<EndpointWatchdog>("endpoints", tags: ["ready"]);

        builder.Services.TryAddSingleton<JobLogScopes>();
        builder.Services.AddMassTransit(x =>
        {
            // MassTransit 8.5 would otherwise report usage to its vendor.
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();
            register?.Invoke(x);

            x.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                cfg.Host(options.Host, options.Port, options.VirtualHost, h =>
                {
                    h.Username(options.Username);
                    h.Password(options.Password);
                    if (options.ClusterNodeList.Count > 0)
                        h.UseCluster(c =>
                        {
                            foreach (var node in options.ClusterNodeList)
                                c.Node(node);
                        });
                });
                cfg.ConnectEndpointConfigurationObserver(new QueueTypeObserver(options.QueueType));
                QueueNames.SendToExchanges = options.QueueType == RabbitMqQueueType.Quorum;
                cfg.PrefetchCount = options.PrefetchCount;
                cfg.UseRideThrough(context.GetRequiredService<IOptions<RideThroughOptions>>().Value);
                // Every line logged while a job's message is handled names the job, its attempt and worker.
                cfg.UseConsumeFilter(typeof(JobLogScopeFilter<>), context);
                configure?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
