using Bus.Gateway.Apis;
using Bus.Gateway.Extensions;
using Prometheus;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayServices();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseHttpMetrics();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealth();
app.MapMetrics(); // Prometheus text format, no key needed
app.MapJobsApi();
app.MapWorkersApi();
app.Run();
