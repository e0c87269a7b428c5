using Bus.Infrastructure.Hosting;
using Bus.Scheduler.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddSchedulerServices();
builder.AddManagement("scheduler");
var app = builder.Build();
app.MapManagement();
app.Run();
