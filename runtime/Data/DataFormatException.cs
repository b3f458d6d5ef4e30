using System;

namespace GraphGen.Data;

/// <summary>A data file is missing, unreadable or malformed. The message names the file and the problem.</summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception; the message reads "<paramref name="path"/>: <paramref name="problem"/>".</summary>
    /// <param name="path">The file (or directory) at fault.</param>
    /// <param name="problem">What is wrong with it, and where useful how to fix it.</param>
    /// <param name="inner">The low-level exception that revealed the problem, if any.</param>
    public DataFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file (or directory) at fault.</summary>
    public string Path { get; }
}
