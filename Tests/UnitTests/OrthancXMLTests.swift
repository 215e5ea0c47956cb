import Model
import Testing

@Suite("Orthanc's XML form of JSON answers")
struct OrthancXMLTests {
    @Test("root element, sorted members, items, null, numbers, empty elements and escaping as Orthanc's JsonToXml")
    func shape() {
        let value: JSONValue = ["Name": "a<b & c>", "Count": .number(16), "Ratio": .number(0.5), "Empty": [], "None": .null, "Flag": .bool(true),
                                "List": ["x", ["Inner": "y"]]]
        #expect(value.orthancXML == """
            <?xml version="1.0" encoding="utf-8"?>
            <root>
              <Count>16</Count>
              <Empty />
              <Flag>true</Flag>
              <List>
                <item>x</item>
                <item>
                  <Inner>y</Inner>
                </item>
              </List>
              <Name>a&lt;b &amp; c&gt;</Name>
              <None>null</None>
              <Ratio>0.5</Ratio>
            </root>

            """)
        #expect(JSONValue.array(["\u{1}"]).orthancXML.contains("<item>&#1;</item>"))
    }
}
