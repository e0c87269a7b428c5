using System.Net;
using System.Net.Sockets;

namespace Bus.SystemTests.Support;

/// <summary>
/// A loopback TCP forwarder in front of a real server, so a test can make that server unreachable for the services
/// it started (and for them alone) without stopping the server others use. Closed, it refuses new connections and
/// cuts every open one, as a server that went down would; opened again, it forwards on the same port.
/// </summary>
public sealed class TcpGate : IAsyncDisposable
{
    readonly IPEndPoint _target;
    readonly Lock _lock = new();
    readonly List<TcpClient> _connections = [];
    TcpListener? _listener;
    CancellationTokenSource _open = new();

    public int Port { get; }

    public TcpGate(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
        Port = RunningSystem.FreePort();
        Open();
    }

    public void Open()
    {
        lock (_lock)
        {
            if (_listener is not null)
                return;
            _open = new CancellationTokenSource();
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Start();
            _ = Accept(_listener, _open.Token);
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            _open.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var connection in _connections)
                connection.Dispose();
            _connections.Clear();
        }
    }

    async Task Accept(TcpListener listener, CancellationToken closed)
    {
        while (!closed.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(closed);
            }
            catch (Exception)
            {
                return;
            }
            _ = Forward(client, closed);
        }
    }

    async Task Forward(TcpClient client, CancellationToken closed)
    {
        var server = new TcpClient();
        lock (_lock)
        {
            if (closed.IsCancellationRequested)
            {
                client.Dispose();
                server.Dispose();
                return;
            }
            _connections.Add(client);
            _connections.Add(server);
        }
        try
        {
            await server.ConnectAsync(_target, closed);
            var up = client.GetStream().CopyToAsync(server.GetStream(), closed);
            var down = server.GetStream().CopyToAsync(client.GetStream(), closed);
            await Task.WhenAny(up, down);
        }
        catch (Exception)
        {
            // A cut connection: the point of closing the gate.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
