using Bus.Capacity.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bus.Capacity.Redis;

public static class RedisExtensions
{
    /// <summary>Adds the one shared Redis connection, the key names, the worker registry and the outage policy.</summary>
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RedisOptions>()
            .BindConfiguration(RedisOptions.Section)
            .Configure<IConfiguration>((o, config) =>
                o.ConnectionString = config.GetConnectionString("Redis") ?? o.ConnectionString)
            .ValidateOnStart();

        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var config = ConfigurationOptions.Parse(options.ConnectionString);
            // Keep retrying in the background instead of failing start-up while Redis comes up.
            config.AbortOnConnectFail = false;
            // While the connection is down, fail commands at once instead of queueing them until a timeout: callers
            // then fall back to PostgreSQL (placement) or retry at their next beat, instead of each waiting seconds.
            config.BacklogPolicy = BacklogPolicy.FailFast;
            return ConnectionMultiplexer.Connect(config);
        });
        builder.Services.AddSingleton(sp => new RedisKeys(sp.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<WorkerRegistry>();
        builder.Services.AddSingleton<RedisOutagePolicy>();
        return builder;
    }
}
