using Bus.Hosting.Management;
using Bus.Worker;
using Bus.Worker.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, WorkerOptions.CommandLineSwitches);
builder.AddWorkerServices();
builder.AddManagement("worker");
var app = builder.Build();
app.MapManagement();
app.Run();
