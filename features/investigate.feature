@investigate
Feature: Investigating email observables in Threat Response
  Investigate accepts email observables in the form type:"value": ip, domain, email, email_messageid,
  email_subject, cisco_mid, sha256 and file_name. An investigation on a message that went through the
  appliance returns a sighting from its module: "Incoming message (Delivered)", confidence High,
  severity Low, with relations between IP, target email, subject, Cisco message ID, domain and sender.
  No data means the query syntax is wrong, or the wrong Threat Response server/cloud was chosen.

  Background:
    Given the appliance starts with cloud services disabled
    And the appliance is registered with Threat Response
    And an "Email Security Appliance" module for the appliance
    And I sent an email through the appliance:
      | field      | value                 |
      | from       | noreply@cisco.com     |
      | to         | testingBren@cisco.com |
      | subject    | Invoice Due           |
      | message-id | 123-abc-456@cisco.com |
      | attachment | invoice.pdf           |

  @req:VER-6 @req:VER-5
  Scenario Outline: Investigating <observable> with the documented syntax finds the message
    When I investigate '<query>' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module with:
      | field       | value                        |
      | description | Incoming message (Delivered) |
      | confidence  | High                         |
      | severity    | Low                          |

    Examples:
      | observable                 | query                                   |
      | the IP address             | ip:"<sender ip>"                        |
      | the domain                 | domain:"cisco.com"                      |
      | the sender email address   | email:"noreply@cisco.com"               |
      | the email message header   | email_messageid:"123-abc-456@cisco.com" |
      | the email subject          | email_subject:"Invoice Due"             |
      | the Cisco Message ID (MID) | cisco_mid:"<mid>"                       |
      | the SHA256 file hash       | sha256:"<sha256 of invoice.pdf>"        |
      | the attachment file name   | file_name:"invoice.pdf"                 |

  @req:VER-5
  Scenario: The sighting relates IP, target email, subject, Cisco message ID, domain and sender
    When I investigate 'email_subject:"Invoice Due"' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module
    And the sighting relates the observables:
      | type          | value                 |
      | ip            | <sender ip>           |
      | email         | testingBren@cisco.com |
      | email_subject | Invoice Due           |
      | cisco_mid     | <mid>                 |
      | domain        | cisco.com             |
      | email         | noreply@cisco.com     |

  @req:VER-6 @req:TS-2
  Scenario Outline: A query with wrong syntax (<mistake>) shows no data from the appliance, the documented syntax does
    When I investigate '<wrong>' in Threat Response
    Then the investigation shows no sighting from the module
    When I investigate '<right>' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module

    Examples:
      | mistake             | wrong                        | right                       |
      | no quotes           | email_subject:Invoice Due    | email_subject:"Invoice Due" |
      | unknown type        | subject:"Invoice Due"        | email_subject:"Invoice Due" |
      | bare words          | Invoice Due                  | email_subject:"Invoice Due" |
      | wrong value         | cisco_mid:"999999"           | cisco_mid:"<mid>"           |

  @req:TS-2 @region:eu
  Scenario: Investigating in the wrong Threat Response cloud shows no data from the appliance
    When I investigate 'email_subject:"Invoice Due"' in the "eu" Threat Response
    Then the investigation shows no sighting from the module
    When I investigate 'email_subject:"Invoice Due"' in the "nam" Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module
