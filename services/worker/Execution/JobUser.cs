namespace Bus.Worker.Execution;

/// <summary>The account a job runs as, looked up once at start-up.</summary>
public sealed record JobUser(string Name, uint Uid, uint Gid)
{
    public bool IsRoot => Uid == 0;

    /// <summary>Looks a user up in <c>/etc/passwd</c>; null when there is no such user.</summary>
    public static JobUser? Find(string name, string passwdFile = "/etc/passwd")
    {
        foreach (var line in File.ReadLines(passwdFile))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name && uint.TryParse(fields[2], out var uid) && uint.TryParse(fields[3], out var gid))
                return new JobUser(name, uid, gid);
        }
        return null;
    }
}
