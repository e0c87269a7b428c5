namespace Bus.Worker.Execution;

/// <summary>One cgroup folder, in either hierarchy: its files are read and written as text.</summary>
internal sealed record CgroupDirectory(string Path)
{
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public bool Has(string name) => System.IO.File.Exists(File(name));

    public void Write(string name, string value) => System.IO.File.WriteAllText(File(name), value);

    public string Read(string name) => System.IO.File.ReadAllText(File(name)).Trim();

    /// <summary>The processes in it now; none once the folder is gone.</summary>
    public int[] Processes()
    {
        try
        {
            return System.IO.File.ReadAllLines(File("cgroup.procs")).Where(l => l.Length > 0).Select(int.Parse).ToArray();
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            return [];
        }
    }

    public bool IsEmpty => Processes().Length == 0;

    /// <summary>The value of one <c>key value</c> line of a flat-keyed file such as <c>memory.events</c>, or 0.</summary>
    public long Counter(string name, string key)
    {
        if (!Has(name))
            return 0;
        foreach (var line in System.IO.File.ReadLines(File(name)))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], out var value))
                return value;
        }
        return 0;
    }

    public CgroupDirectory Child(string name) => new(System.IO.Path.Combine(Path, name));

    public IEnumerable<CgroupDirectory> Children() =>
        Directory.Exists(Path) ? Directory.EnumerateDirectories(Path).Select(d => new CgroupDirectory(d)) : [];

    public void Create() => Directory.CreateDirectory(Path);

    /// <summary>Removes the (empty) cgroup; its control files go with it, so this is rmdir, never a recursive delete.</summary>
    public void Remove()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: false);
    }
}
