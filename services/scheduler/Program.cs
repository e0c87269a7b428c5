using Bus.Hosting.Management;
using Bus.Scheduler.Extensions;
using Bus.Scheduler.Inspection;

var builder = WebApplication.CreateBuilder(args);
builder.AddSchedulerServices();
builder.AddManagement("scheduler");
var app = builder.Build();
app.MapManagement();
app.MapStateMachineGraph();
app.Run();
