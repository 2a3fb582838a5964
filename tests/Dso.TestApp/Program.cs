using System.Net;
using System.Net.Sockets;
using System.Text;

// dso-testapp, the app in test containers:
//   report NAME...     print NAME=value for each environment variable, and for each NAME whose
//                      value is a path, also FILE:NAME=content; then stay alive (sleep) unless
//                      --exit is given first
//   serve PORT NAME... answer every TCP connection with the same report, then close it
// It prints secret values on purpose: it stands in for an application that uses them.
var arguments = args.ToList();
var exit = arguments.Remove("--exit");
if (arguments.Count == 0)
{
    Console.Error.WriteLine("usage: dso-testapp [--exit] report NAME... | serve PORT NAME...");
    return 2;
}

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
        var listener = new TcpListener(IPAddress.Any, int.Parse(arguments[1], System.Globalization.CultureInfo.InvariantCulture));
        listener.Start();
        Console.Out.WriteLine($"listening on {arguments[1]}");
        Console.Out.Flush();
        while (true)
        {
            using var client = listener.AcceptTcpClient();
            var bytes = Encoding.UTF8.GetBytes(Report(arguments.Skip(2)));
            client.GetStream().Write(bytes);
        }

    default:
        Console.Error.WriteLine($"unknown mode {arguments[0]}");
        return 2;
}

static string Report(IEnumerable<string> names)
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

    return text.ToString();
}
