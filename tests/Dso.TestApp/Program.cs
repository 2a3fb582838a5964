using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

// dso-testapp, the app in test containers:
//   report NAME...     print NAME=value for each environment variable, and for each NAME whose
//                      value is a path, also FILE:NAME=content; then stay alive (sleep) unless
//                      --exit is given first
//   serve PORT NAME... listen on PORT; a client's first line chooses: ONCE (or nothing, just
//                      EOF) → the report, then close; KEEP → a report followed by "END" for every
//                      GET line, until the client closes. Files are read again for every report.
//   check PORT         exit 0 when 127.0.0.1:PORT accepts a connection, else 1 (a HEALTHCHECK)
//   probe HOST PORT NAME COUNT INTERVAL_MS
//                      a client: COUNT times, every INTERVAL_MS, resolve HOST again, connect to one of
//                      its addresses in turn (no fallback to another) and ask for a report; a request
//                      fails unless the report has NAME=. Prints "probe requests=N failed=F", then
//                      each distinct NAME value seen as "seen=VALUE" and the first failures; exit 0
//   http PORT          a minimal HTTP/1.1 server with keep-alive: every request gets 200 and the same
//                      600-byte body, closing after it when asked (Connection: close); a backend
//                      for the proxy benchmarks
// Every report ends with SIGNALS:HUP=N (SIGHUPs received) and PID=N. With --refuse PREFIX it exits
// with 3 before listening when a reported value starts with PREFIX (an app that rejects its
// secrets, for the unhealthy-rollback tests). SIGTERM ends it at once, as a well-behaved server;
// with --ignore-term it is ignored (a server that only SIGKILL stops, like busybox httpd as PID 1).
// It prints secret values on purpose: it stands in for an application that uses them.
var arguments = args.ToList();
var exit = arguments.Remove("--exit");
var ignoreTerm = arguments.Remove("--ignore-term");
string? refuse = null;
var refuseAt = arguments.IndexOf("--refuse");
if (refuseAt >= 0 && refuseAt + 1 < arguments.Count)
{
    refuse = arguments[refuseAt + 1];
    arguments.RemoveRange(refuseAt, 2);
}

if (arguments.Count == 0)
{
    Console.Error.WriteLine("usage: dso-testapp [--exit] [--ignore-term] [--refuse PREFIX] report NAME... | serve PORT NAME...");
    return 2;
}

var hangups = 0;
using var onHangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
{
    context.Cancel = true;
    Interlocked.Increment(ref hangups);
});
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    if (ignoreTerm)
    {
        context.Cancel = true;
        return;
    }

    Environment.Exit(0);
});

switch (arguments[0])
{
    case "report":
        Console.Out.Write(Report(arguments.Skip(1)));
        Console.Out.Flush();
        if (!exit)
        {
            Thread.Sleep(Timeout.Infinite);
        }

        return 0;
    case "serve":
        var names = arguments.Skip(2).ToList();
        if (refuse is not null && Values(names).Any(v => v.StartsWith(refuse, StringComparison.Ordinal)))
        {
            Console.Error.WriteLine("dso-testapp: refusing to serve with these secrets");
            return 3;
        }

        var listener = new TcpListener(IPAddress.Any, int.Parse(arguments[1], System.Globalization.CultureInfo.InvariantCulture));
        listener.Start(512);
        Console.Out.WriteLine($"listening on {arguments[1]}");
        Console.Out.Flush();
        while (true)
        {
            var client = listener.AcceptTcpClient();
            _ = Task.Run(() => Serve(client, names));
        }

    case "http":
        var server = new TcpListener(IPAddress.Any, int.Parse(arguments[1], System.Globalization.CultureInfo.InvariantCulture));
        server.Start(1024);
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 600\r\n\r\n" + new string('x', 600));
        while (true)
        {
            var client = server.AcceptTcpClient();
            _ = Task.Run(() => ServeHttp(client, response));
        }

    case "check":
        // A HEALTHCHECK for images without a shell: exit 0 when PORT on this host accepts a connection.
        try
        {
            using var probe = new TcpClient();
            probe.Connect(IPAddress.Loopback, int.Parse(arguments[1], System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        catch (SocketException)
        {
            return 1;
        }

    case "probe":
        return Probe(arguments[1], int.Parse(arguments[2], System.Globalization.CultureInfo.InvariantCulture), arguments[3],
            int.Parse(arguments[4], System.Globalization.CultureInfo.InvariantCulture), int.Parse(arguments[5], System.Globalization.CultureInfo.InvariantCulture));

    default:
        Console.Error.WriteLine($"unknown mode {arguments[0]}");
        return 2;
}

void Serve(TcpClient client, List<string> names)
{
    using (client)
    {
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8, false, 256, leaveOpen: true);
            var first = reader.ReadLine();
            if (first != "KEEP")
            {
                stream.Write(Encoding.UTF8.GetBytes(Report(names)));
                return;
            }

            while (reader.ReadLine() is { } line)
            {
                if (line == "GET")
                {
                    stream.Write(Encoding.UTF8.GetBytes(Report(names) + "END\n"));
                }
            }
        }
        catch (IOException)
        {
        }
    }
}

// Asynchronous: a blocking read per connection would hold a pool thread for each keep-alive client,
// and 32 clients at once would wait for the pool to grow (a second or more: the benchmarks' p99).
static async Task ServeHttp(TcpClient client, byte[] response)
{
    using (client)
    {
        client.NoDelay = true;
        var stream = client.GetStream();
        var buffer = new byte[8192];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled));
                if (read == 0)
                {
                    return;
                }

                filled += read;

                // Answer every complete request in the buffer (headers only: the benchmarks send GETs).
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    var close = buffer.AsSpan(0, end).IndexOf("Connection: close"u8) >= 0;
                    await stream.WriteAsync(response);
                    if (close)
                    {
                        return;
                    }

                    var rest = filled - (end + 4);
                    buffer.AsSpan(end + 4, rest).CopyTo(buffer);
                    filled = rest;
                }

                if (filled == buffer.Length)
                {
                    return;
                }
            }
        }
        catch (IOException)
        {
        }
    }
}

IEnumerable<string> Values(IEnumerable<string> names)
{
    foreach (var name in names)
    {
        if (Environment.GetEnvironmentVariable(name) is not { } value)
        {
            continue;
        }

        yield return value;
        if (value.StartsWith('/') && File.Exists(value))
        {
            yield return File.ReadAllText(value);
        }
    }
}

string Report(IEnumerable<string> names)
{
    var text = new StringBuilder();
    foreach (var name in names)
    {
        var value = Environment.GetEnvironmentVariable(name);
        text.Append(name).Append('=').Append(value ?? "<unset>").Append('\n');
        if (value is not null && value.StartsWith('/') && File.Exists(value))
        {
            text.Append("FILE:").Append(name).Append('=').Append(File.ReadAllText(value)).Append('\n');
        }
    }

    text.Append("SIGNALS:HUP=").Append(Volatile.Read(ref hangups)).Append('\n');
    text.Append("PID=").Append(Environment.ProcessId).Append('\n');
    return text.ToString();
}

static int Probe(string host, int port, string name, int count, int intervalMs)
{
    var failed = 0;
    var seen = new SortedSet<string>(StringComparer.Ordinal);
    var failures = new List<string>();
    var next = Environment.TickCount64;
    for (var i = 0; i < count; i++)
    {
        try
        {
            var addresses = Dns.GetHostAddresses(host).Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToArray();
            using var client = new TcpClient();
            if (!client.ConnectAsync(addresses[i % addresses.Length], port).Wait(2000))
            {
                throw new TimeoutException("connect timed out");
            }

            client.ReceiveTimeout = 2000;
            var stream = client.GetStream();
            stream.Write("ONCE\n"u8);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var report = reader.ReadToEnd();
            var line = report.Split('\n').FirstOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal))
                ?? throw new IOException($"no {name}= in the answer");
            seen.Add(line[(name.Length + 1)..]);
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException or AggregateException or IndexOutOfRangeException or DivideByZeroException)
        {
            failed++;
            if (failures.Count < 5)
            {
                failures.Add($"request {i}: {e.GetType().Name}: {e.Message}");
            }
        }

        next += intervalMs;
        var wait = next - Environment.TickCount64;
        if (wait > 0)
        {
            Thread.Sleep((int)wait);
        }
    }

    Console.Out.WriteLine($"probe requests={count} failed={failed}");
    foreach (var value in seen)
    {
        Console.Out.WriteLine($"seen={value}");
    }

    foreach (var failure in failures)
    {
        Console.Out.WriteLine($"failure={failure}");
    }

    return 0;
}
