using System;
using System.IO;
using System.Text;

namespace GraphGen.Samples;

/// <summary>Reads a binary PGM (P5, 8-bit) image: the simplest grayscale format, written by most tools
/// (e.g. `convert shirt.png -resize 28x28! -colorspace gray shirt.pgm`).</summary>
internal static class Pgm
{
    public static byte[] Read(string path, int height, int width)
    {
        GraphGen.Checkpoints.AtomicFile.RequireRegularFile(path); // a FIFO would block forever
        byte[] data = File.ReadAllBytes(path);
        int at = 0;
        string Token()
        {
            while (at < data.Length && (char.IsWhiteSpace((char)data[at]) || data[at] == '#'))
            {
                if (data[at] == '#') while (at < data.Length && data[at] != '\n') at++;
                else at++;
            }
            int start = at;
            while (at < data.Length && !char.IsWhiteSpace((char)data[at])) at++;
            return Encoding.ASCII.GetString(data, start, at - start);
        }
        if (Token() != "P5") throw new InvalidDataException($"{path} is not a binary PGM (P5) image");
        if (!int.TryParse(Token(), out int w) || !int.TryParse(Token(), out int h) || !int.TryParse(Token(), out int max) || max != 255)
            throw new InvalidDataException($"{path}: the PGM header must give width, height and a maximum of 255");
        if (w != width || h != height) throw new InvalidDataException($"{path} is {w}x{h}; the network takes {width}x{height} images");
        at++; // the single whitespace after the maximum
        if (data.Length - at < w * h) throw new InvalidDataException($"{path} is truncated: {data.Length - at} of {w * h} pixel bytes");
        return data.AsSpan(at, w * h).ToArray();
    }
}
