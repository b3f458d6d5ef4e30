using System;
using System.IO;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class CsvTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string text) => _dir.WriteBytes("table.csv", System.Text.Encoding.UTF8.GetBytes(text));

    private static DataFormatException Fails(string path, Action read, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(read);
        Assert.Equal(path, e.Path);
        foreach (string phrase in phrases) Assert.Contains(phrase, e.Message);
        return e;
    }

    [Fact]
    public void Label_first_no_header()
    {
        var set = Csv.Load(Write("1,0.5,-2\n0,3e2,.25\n"));
        Assert.Equal(new[] { 2 }, set.Shape);
        Assert.Equal(new[] { 1, 0 }, set.Labels.ToArray());
        Assert.Equal(new[] { 0.5f, -2f, 300f, 0.25f }, set.Values.ToArray());
        Assert.Null(set.ClassNames);
    }

    [Fact]
    public void Header_delimiter_last_label_column_CRLF_and_quotes()
    {
        string path = Write("\"a\";b;class\r\n1.5; \"2\" ;3\r\n-1;0;0\r\n");
        var set = Csv.Load(path, new CsvOptions { HasHeader = true, Delimiter = ';', LabelColumn = -1 });
        Assert.Equal(new[] { 1.5f, 2, -1, 0 }, set.Values.ToArray());
        Assert.Equal(new[] { 3, 0 }, set.Labels.ToArray());
    }

    [Fact]
    public void Label_in_the_middle_and_tabs()
    {
        var set = Csv.Load(Write("4\t2\t5\n6\t1\t7"), new CsvOptions { Delimiter = '\t', LabelColumn = 1 });
        Assert.Equal(new[] { 4f, 5, 6, 7 }, set.Values.ToArray());
        Assert.Equal(new[] { 2, 1 }, set.Labels.ToArray());
    }

    [Fact]
    public void Text_labels_become_sorted_classes()
    {
        var set = Csv.Load(Write("5.1,setosa\n6.2,virginica\n5.9,versicolor\n4.9,setosa\n"), new CsvOptions { LabelColumn = 1, TextLabels = true });
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, set.ClassNames);
        Assert.Equal(new[] { 0, 2, 1, 0 }, set.Labels.ToArray());
    }

    [Fact]
    public void A_UTF8_byte_order_mark_is_not_part_of_the_first_field()
    {
        string path = _dir.WriteBytes("bom.csv", [0xEF, 0xBB, 0xBF, .. "2,1\n"u8]);
        Assert.Equal(2, Csv.Load(path).Labels[0]);
    }

    // ---- bad input: each names the line, the column and the value ----

    [Fact]
    public void Missing_value()
    {
        string path = Write("x,y,label\n1,2,0\n3,,1\n");
        Fails(path, () => Csv.Load(path, new CsvOptions { HasHeader = true, LabelColumn = 2 }), "missing value at line 3, column 2 (y)");
    }

    [Fact]
    public void Non_numeric_value()
    {
        string path = Write("0,1.0\n1,abc\n");
        Fails(path, () => Csv.Load(path), "non-numeric value 'abc' at line 2, column 2");
    }

    [Fact]
    public void Decimal_comma_is_non_numeric()
    {
        string path = Write("0;1,5\n");
        Fails(path, () => Csv.Load(path, new CsvOptions { Delimiter = ';' }), "non-numeric value '1,5' at line 1, column 2");
    }

    [Theory]
    [InlineData("NaN", "is NaN")]
    [InlineData("Infinity", "infinite")]
    [InlineData("1e39", "beyond the float range")]
    public void Non_finite_value(string value, string phrase)
    {
        string path = Write($"0,1\n1,{value}\n");
        Fails(path, () => Csv.Load(path), $"value '{value}' at line 2, column 2", phrase);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("cat")]
    public void Bad_label(string label)
    {
        string path = Write($"0,1\n{label},2\n");
        Fails(path, () => Csv.Load(path), $"label '{label}' at line 2, column 1 is not a non-negative integer");
    }

    [Fact]
    public void Missing_label()
    {
        string path = Write("0,1\n,2\n");
        Fails(path, () => Csv.Load(path), "missing label at line 2, column 1");
    }

    [Fact]
    public void Ragged_rows()
    {
        string path = Write("0,1,2\n1,2\n");
        Fails(path, () => Csv.Load(path), "line 2 has 2 columns, expected 3");
    }

    [Fact]
    public void Blank_line_inside()
    {
        string path = Write("0,1\n\n1,2\n");
        Fails(path, () => Csv.Load(path), "line 2 is empty");
    }

    [Fact]
    public void Single_column_hints_at_the_delimiter()
    {
        string path = Write("0;1\n");
        Fails(path, () => Csv.Load(path), "line 1 has 1 column", "is the delimiter ',' right?");
    }

    [Fact]
    public void Label_column_out_of_range()
    {
        string path = Write("0,1\n");
        Fails(path, () => Csv.Load(path, new CsvOptions { LabelColumn = 2 }), "label column 2 does not exist: the table has 2 columns");
        Fails(path, () => Csv.Load(path, new CsvOptions { LabelColumn = -3 }), "label column -3 does not exist");
    }

    [Fact]
    public void Unclosed_quote()
    {
        string path = Write("0,\"1.5\n");
        Fails(path, () => Csv.Load(path), "line 1, column 2: the quote opened at character 3 is never closed");
    }

    [Fact]
    public void Empty_file_and_header_only()
    {
        string path = Write("");
        Fails(path, () => Csv.Load(path), "file is empty");
        path = Write("a,b\n");
        Fails(path, () => Csv.Load(path, new CsvOptions { HasHeader = true }), "holds no samples, only a header");
    }

    [Fact]
    public void Missing_file_directory_and_FIFO()
    {
        string missing = _dir.File("none.csv");
        Fails(missing, () => Csv.Load(missing), "file not found");
        Fails(_dir.Path, () => Csv.Load(_dir.Path), "is a directory, expected a CSV file");
        string fifo = _dir.File("pipe.csv");
        IdxTests.MakeFifo(fifo);
        Fails(fifo, () => Csv.Load(fifo), "is a FIFO (named pipe), not a regular file");
    }

    [Fact]
    public void A_delimiter_that_cannot_separate_numbers_is_refused()
    {
        string path = Write("0,1\n");
        Assert.Throws<ArgumentException>(() => Csv.Load(path, new CsvOptions { Delimiter = '.' }));
        Assert.Throws<ArgumentException>(() => Csv.Load(path, new CsvOptions { Delimiter = 'e' }));
    }
}
