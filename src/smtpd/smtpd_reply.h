/*
 * smtpd_reply - every SMTP reply text smtpd sends, with its enhanced
 * status code, in one place. Texts match Postfix 3.x word for word so that
 * clients, tests and log parsers written for Postfix keep working; "%s"
 * slots take the host name, an address or a reason.
 */
#ifndef OUTPOST_SMTPD_SMTPD_REPLY_H
#define OUTPOST_SMTPD_SMTPD_REPLY_H

/* greeting and session */
#define R_GREETING		"220 %s"		/* smtpd_banner */
#define R_BYE			"221 2.0.0 Bye"
#define R_DONE			"250 2.0.0 Ok"
#define R_SENDER_OK		"250 2.1.0 Ok"
#define R_RCPT_OK		"250 2.1.5 Ok"
#define R_QUEUED		"250 2.0.0 Ok: queued as %s"
#define R_DATA_GO		"354 End data with <CR><LF>.<CR><LF>"
#define R_VRFY_OK		"252 2.0.0 %s"
#define R_ETRN_OK		"250 Queuing started"
#define R_ETRN_UNAVAILABLE	"459 <%s>: service unavailable"
#define R_HELO_SYNTAX		"501 Syntax: HELO hostname"
#define R_EHLO_SYNTAX		"501 Syntax: EHLO hostname"

/* protocol errors */
#define R_UNRECOGNIZED		"500 5.5.2 Error: command not recognized"
#define R_BAD_SYNTAX		"500 5.5.2 Error: bad syntax"
#define R_LINE_TOO_LONG		"500 5.5.0 Error: line too long"
#define R_BAD_UTF8		"500 5.5.2 Error: bad UTF-8 syntax"
#define R_SEND_HELO		"503 5.5.1 Error: send HELO/EHLO first"
#define R_NESTED_MAIL		"503 5.5.1 Error: nested MAIL command"
#define R_NEED_MAIL		"503 5.5.1 Error: need MAIL command"
#define R_NEED_RCPT		"503 5.5.1 Error: need RCPT command"
#define R_NO_VALID_RCPT		"554 5.5.1 Error: no valid recipients"
#define R_MAIL_SYNTAX		"501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_RCPT_SYNTAX		"501 5.5.4 Syntax: RCPT TO:<address>"
#define R_DATA_SYNTAX		"501 5.5.4 Syntax: DATA"
#define R_RSET_SYNTAX		"501 5.5.4 Syntax: RSET"
#define R_STARTTLS_SYNTAX	"501 5.5.4 Syntax: STARTTLS"
#define R_VRFY_SYNTAX		"501 5.5.4 Syntax: VRFY address"
#define R_VRFY_SYNTAX_UTF8	"501 5.5.4 Syntax: VRFY address [SMTPUTF8]"
#define R_ETRN_SYNTAX		"500 Syntax: ETRN domain"
#define R_VRFY_DISABLED		"502 5.5.1 VRFY command is disabled"
#define R_BAD_SENDER		"501 5.1.7 Bad sender address syntax"
#define R_BAD_RCPT		"501 5.1.3 Bad recipient address syntax"
#define R_BAD_SIZE		"501 5.5.4 Bad message size syntax"
#define R_BAD_PARAM		"501 5.5.4 Bad %s syntax: %s"
#define R_BAD_RET		"501 5.5.4 Bad RET parameter syntax"
#define R_BAD_ENVID		"501 5.5.4 Bad ENVID parameter syntax"
#define R_BAD_NOTIFY		"501 5.5.4 Error: Bad NOTIFY parameter syntax"
#define R_BAD_ORCPT		"501 5.5.4 Error: Bad ORCPT parameter syntax"
#define R_UNSUPPORTED_OPT	"555 5.5.4 Unsupported option: %s"
#define R_MULTI_AUTH		"503 5.5.4 Error: multiple AUTH= options"
#define R_NEED_SMTPUTF8		"553 5.6.7 Must declare SMTPUTF8 to send unicode address"
#define R_TOO_MANY_RCPT		"452 4.5.3 Error: too many recipients"
#define R_SIZE_LIMIT		"552 5.3.4 Message size exceeds fixed limit"
#define R_SYNC_ERROR		"554 5.5.0 Error: SMTP protocol synchronization"
#define R_BARE_LF		"521 5.5.2 %s Error: bare <LF> received"
#define R_NOT_IMPLEMENTED	"502 5.5.1 Error: command not implemented"
#define R_NOT_AUTHORIZED	"550 5.7.0 Error: insufficient authorization"

/* session ends */
#define R_TIMEOUT		"421 4.4.2 %s Error: timeout exceeded"
#define R_TOO_MANY_ERRORS	"421 4.7.0 %s Error: too many errors"
#define R_TOO_MANY_CONN		"421 4.7.0 %s Error: too many connections from %s"
#define R_CONN_RATE		"421 4.7.0 %s Error: too many connections from %s"
#define R_MAIL_RATE		"450 4.7.1 Error: too much mail from %s"
#define R_RCPT_RATE		"450 4.7.1 Error: too many recipients from %s"
#define R_AUTH_RATE		"450 4.7.1 Error: too many AUTH commands from %s"
#define R_AUTH_FAIL_LIMIT	"421 4.7.0 %s Error: too many failed authentications"
#define R_LOCAL_ERROR		"421 4.3.0 %s Server local error"
#define R_SHUTDOWN		"421 4.3.2 %s Service shutting down, closing transmission channel"
#define R_CONFIG_ERROR		"451 4.3.5 Server configuration error"
#define R_QUEUE_WRITE		"451 4.3.0 Queue file write error"

/* TLS */
#define R_TLS_READY		"220 2.0.0 Ready to start TLS"
#define R_TLS_ACTIVE		"554 5.5.1 Error: TLS already active"
#define R_TLS_UNAVAILABLE	"454 4.7.0 TLS not available due to local problem"
#define R_TLS_REQUIRED		"530 5.7.0 Must issue a STARTTLS command first"

/* AUTH */
#define R_AUTH_OK		"235 2.7.0 Authentication successful"
#define R_AUTH_CHALLENGE	"334 %s"
#define R_AUTH_NOT_ENABLED	"503 5.5.1 Error: authentication not enabled"
#define R_AUTH_IN_MAIL		"503 5.5.1 Error: MAIL transaction in progress"
#define R_AUTH_ALREADY		"503 5.5.1 Error: already authenticated"
#define R_AUTH_SYNTAX		"501 5.5.4 Syntax: AUTH mechanism"
#define R_AUTH_ABORTED		"501 5.7.0 Authentication aborted"
#define R_AUTH_TEMP		"454 4.7.0 Temporary authentication failure: %s"
#define R_AUTH_FAILED		"535 5.7.8 Error: authentication failed: %s"
#define R_AUTH_BAD_MECH		"535 5.7.8 Error: authentication failed: Invalid authentication mechanism"
#define R_AUTH_ENCRYPT		"504 5.5.4 Encryption required for requested authentication mechanism"
#define R_AUTH_TOO_LONG		"500 5.5.6 SASL response limit exceeded"

#endif
