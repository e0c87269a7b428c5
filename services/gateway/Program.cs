using Bus.Gateway.Apis;
using Bus.Gateway.Auth;
using Bus.Gateway.Errors;
using Bus.Gateway.Extensions;
using Bus.Gateway.OpenApi;
using Bus.Hosting.Management;

if (NewKeyCommand.TryRun(args, Console.Out))
    return;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayServices();
// Health and metrics on the API address itself, next to the API.
builder.AddManagement("gateway", ownListener: false);

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestBodyChecks();
// The dashboard (wwwroot) is public: the page asks for a key and sends it with its own API calls.
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter(); // after authentication: requests are counted per API key
app.MapManagement(); // /health/live, /health/ready, /metrics: no key needed
app.MapApiDocument(); // /openapi/v1.json and the reference at /reference: no key needed
app.MapJobsApi();
app.MapBatchSubmitApi();
app.MapWorkersApi();
app.MapStatsApi();
app.MapSagasApi();
app.MapEventsApi();
app.MapMeApi();
app.MapServicesApi();
app.MapExplainApi();
app.Run();

/// <summary>The gateway's entry point; public so that tests can host it (WebApplicationFactory).</summary>
public partial class Program;
