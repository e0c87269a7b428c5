using Bus.Hosting.Management;
using Bus.Reconciler.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddReconcilerServices();
builder.AddManagement("reconciler");
var app = builder.Build();
app.MapManagement();
app.Run();
