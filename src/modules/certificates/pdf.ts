import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';

/**
 * The certificate page: one landscape A4 page rendered with pdfkit, in DejaVu Sans embedded
 * (subset) from the `dejavu-fonts-ttf` package, so names in Latin, Greek and Cyrillic render
 * on any reader. Nothing is fetched at run time.
 */

export interface CertificateFacts {
  code: string;
  student: string;
  course: string;
  instructor: string;
  /** ISO time of issue. */
  issuedAt: string;
  revokedAt: string | null;
  verificationUrl: string;
}

/**
 * The fonts, parsed once per process. pdfkit accepts an already parsed fontkit font in
 * `registerFont` (its changelog: "Accept already-parsed fontkit Font instances"); given the
 * file's bytes instead, it parses them anew for every document, which was about two thirds of
 * a render (docs/benchmarks.md). The font is read, never changed, by a document (each one
 * makes its own subset), so the bytes of the PDF are the same either way. fontkit is taken
 * from where pdfkit resolves it, so the object is the kind pdfkit expects.
 */
const require = createRequire(import.meta.url);
const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(data: Buffer): object };
/** What registerFont takes (its type in @types/pdfkit predates parsed fonts). */
type ParsedFont = PDFKit.Mixins.PDFFontSource;
let fonts: { regular: ParsedFont; bold: ParsedFont } | undefined;
function loadFonts() {
  const parse = (file: string) => fontkit.create(readFileSync(require.resolve(file))) as ParsedFont;
  fonts ??= {
    regular: parse('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
    bold: parse('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  };
  return fonts;
}

const day = (iso: string) => iso.slice(0, 10);

export function renderCertificate(facts: CertificateFacts): Promise<Buffer> {
  const { regular, bold } = loadFonts();
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 36,
    // The same facts give the same bytes (no clock in the document).
    info: { Title: `Certificate ${facts.code}`, Author: 'Online Learning Platform', CreationDate: new Date(facts.issuedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  const { width, height } = doc.page;
  const inner = width - 144;
  // Every text box has a height: an overlong name or title is cut with an ellipsis, never pushed to a second page.
  const line = (text: string, y: number, size: number, font: 'regular' | 'bold', boxHeight: number, color = '#222222') =>
    doc.font(font).fontSize(size).fillColor(color).text(text, 72, y, { width: inner, height: boxHeight, align: 'center', ellipsis: true });

  doc
    .lineWidth(3)
    .strokeColor('#1f4e79')
    .rect(24, 24, width - 48, height - 48)
    .stroke();
  doc
    .lineWidth(1)
    .rect(32, 32, width - 64, height - 64)
    .stroke();

  line('Certificate of Completion', 70, 32, 'bold', 44, '#1f4e79');
  line('This certifies that', 140, 14, 'regular', 20);
  line(facts.student, 168, 28, 'bold', 72);
  line('has completed the course', 250, 14, 'regular', 20);
  line(facts.course, 276, 22, 'bold', 60);
  line(`taught by ${facts.instructor}`, 346, 14, 'regular', 40);
  line(`Issued on ${day(facts.issuedAt)}`, 392, 12, 'regular', 18);
  line(`Certificate code: ${facts.code}`, height - 120, 11, 'regular', 16, '#444444');
  line(`Verify at ${facts.verificationUrl}`, height - 102, 10, 'regular', 30, '#444444');

  if (facts.revokedAt !== null) {
    doc.save();
    doc.rotate(-20, { origin: [width / 2, height / 2] });
    doc
      .font('bold')
      .fontSize(110)
      .fillColor('#c00000')
      .fillOpacity(0.35)
      .text('REVOKED', 0, height / 2 - 70, { width, align: 'center', lineBreak: false });
    doc.restore();
    doc.fillOpacity(1);
    line(`REVOKED on ${day(facts.revokedAt)}: this certificate is no longer valid.`, 420, 13, 'bold', 20, '#c00000');
  }
  doc.end();
  return done;
}
