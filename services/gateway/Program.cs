using Bus.Gateway.Apis;
using Bus.Gateway.Auth;
using Bus.Gateway.Errors;
using Bus.Gateway.Extensions;
using Prometheus;

if (NewKeyCommand.TryRun(args, Console.Out))
    return;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayServices();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestBodyChecks();
app.UseHttpMetrics();
// The dashboard (wwwroot) is public: the page asks for a key and sends it with its own API calls.
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter(); // after authentication: requests are counted per API key
app.MapHealth();
app.MapMetrics(); // Prometheus text format, no key needed
app.MapJobsApi();
app.MapWorkersApi();
app.MapStatsApi();
app.MapSagasApi();
app.Run();

/// <summary>The gateway's entry point; public so that tests can host it (WebApplicationFactory).</summary>
public partial class Program;
