using Bus.Gateway.Apis;
using Bus.Gateway.Extensions;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayServices();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseHttpMetrics();
// The dashboard (wwwroot) is public: the page asks for a key and sends it with its own API calls.
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealth();
app.MapMetrics(); // Prometheus text format, no key needed
app.MapJobsApi();
app.MapWorkersApi();
app.MapStatsApi();
app.MapSagasApi();
app.Run();
